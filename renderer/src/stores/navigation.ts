// Which section the window shows, mirrored in the URL hash (`#/machines`) so a reload, or the
// Electron window after a crash restart, comes back to the same place.
import { create } from 'zustand';

export const views = ['machines', 'containers', 'images', 'networks', 'volumes', 'terminals', 'activity'] as const;
export type View = (typeof views)[number];

export function isView(value: unknown): value is View {
  return typeof value === 'string' && (views as readonly string[]).includes(value);
}

export function viewFromHash(hash: string): View {
  const name = hash.replace(/^#\/?/, '');
  return isView(name) ? name : 'machines';
}

interface NavigationState {
  view: View;
  /**
   * The machine the container, image and activity views act on: none until the machines are known
   * (then the one used last, else this computer where it is one, else the only one: see
   * shared/machine-choice.ts), and none while there is no machine at all (the welcome shows).
   */
  machine: string | undefined;
  go: (view: View) => void;
  setMachine: (machine: string) => void;
}

export const useNavigation = create<NavigationState>()((set) => ({
  view: typeof location === 'undefined' ? 'machines' : viewFromHash(location.hash),
  machine: undefined,
  go: (view) => {
    if (typeof history !== 'undefined' && typeof location !== 'undefined' && location.hash !== `#/${view}`) {
      history.replaceState(null, '', `#/${view}`);
    }
    set({ view });
  },
  setMachine: (machine) => set({ machine }),
}));
