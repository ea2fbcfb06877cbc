// The images Onggi launches: the SSM public parameter that names the current AMI per region and
// architecture (published by Debian, Canonical and Amazon), and the user each image logs in as.
import type { Ec2Arch, Ec2Image } from '../../../../shared/machines.js';

const PARAMETERS: Record<Ec2Image, Record<Ec2Arch, string>> = {
  'debian-12': {
    x64: '/aws/service/debian/release/12/latest/amd64',
    arm64: '/aws/service/debian/release/12/latest/arm64',
  },
  'ubuntu-24.04': {
    x64: '/aws/service/canonical/ubuntu/server/24.04/stable/current/amd64/hvm/ebs-gp3/ami-id',
    arm64: '/aws/service/canonical/ubuntu/server/24.04/stable/current/arm64/hvm/ebs-gp3/ami-id',
  },
  al2023: {
    x64: '/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-x86_64',
    arm64: '/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-arm64',
  },
};

const USERS: Record<Ec2Image, string> = { 'debian-12': 'admin', 'ubuntu-24.04': 'ubuntu', al2023: 'ec2-user' };

/** The SSM parameter holding the image's current AMI id for this architecture. */
export function imageParameter(image: Ec2Image, arch: Ec2Arch): string {
  return PARAMETERS[image][arch];
}

export function imageUser(image: Ec2Image): string {
  return USERS[image];
}

/** The small burstable type of each architecture (Graviton for arm64). */
export function defaultInstanceType(arch: Ec2Arch): string {
  return arch === 'arm64' ? 't4g.small' : 't3.small';
}
