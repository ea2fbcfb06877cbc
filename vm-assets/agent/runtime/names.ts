// Names for containers the user did not name, in the spirit of Docker's: two words, memorable,
// here from the potter's workshop the product is named after.
import { randomInt } from 'node:crypto';

const GLAZES = [
  'ash',
  'celadon',
  'buncheong',
  'iron',
  'onggi',
  'white',
  'black',
  'moon',
  'crackle',
  'slip',
  'amber',
  'jade',
  'smoke',
  'rice',
  'pine',
];
const VESSELS = ['jar', 'bowl', 'kiln', 'vase', 'cup', 'ewer', 'pot', 'dish', 'urn', 'crock', 'flask', 'plate', 'lid', 'wheel', 'coil'];

export function generateName(taken: (name: string) => boolean): string {
  for (let attempt = 0; attempt < 100; attempt += 1) {
    const name = `${GLAZES[randomInt(GLAZES.length)]}_${VESSELS[randomInt(VESSELS.length)]}${attempt > 10 ? `_${randomInt(1000)}` : ''}`;
    if (!taken(name)) return name;
  }
  return `container_${randomInt(1_000_000)}`;
}
