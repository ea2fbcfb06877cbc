// What stands between the window and a view that acts on one machine. No machine at all (macOS,
// Windows, Linux where this computer cannot be one, nothing added yet): the welcome, in every
// section. Machines, but none chosen: the view's header with the picker, asking for a choice.
// Otherwise the view, on the chosen machine.
import { useEffect, type ReactNode } from 'react';
import { chooseMachine } from '../../../shared/machine-choice.js';
import { useT, type MessageKey } from '../i18n';
import { useMachines } from '../stores';
import { useNavigation, type View } from '../stores/navigation';
import { ViewHeader } from '../views/ViewHeader';
import { WelcomeView } from '../views/welcome/WelcomeView';
import { Icon } from './icons';
import { MachinePicker } from './MachinePicker';
import { viewLabels } from './Sidebar';

const viewDescriptions: Record<View, MessageKey> = {
  machines: 'view.machines.description',
  containers: 'view.containers.description',
  images: 'view.images.description',
  networks: 'view.networks.description',
  volumes: 'view.volumes.description',
  terminals: 'view.terminals.description',
  activity: 'view.activity.description',
};

/**
 * Picks the machine once the list is known, by the rule the CLI follows (shared/machine-choice.ts):
 * the one used last, else this computer where it is one, else the only one. A choice made already
 * (the user's, or an earlier pick) is left alone.
 */
export function useFirstMachineChoice(): void {
  const status = useMachines((state) => state.status);
  const machines = useMachines((state) => state.machines);
  const lastUsed = useMachines((state) => state.lastUsed);
  const machine = useNavigation((state) => state.machine);
  const setMachine = useNavigation((state) => state.setMachine);
  useEffect(() => {
    if (machine !== undefined || status !== 'ready') return;
    const choice = chooseMachine({ lastUsed, machines });
    if (choice.machine !== undefined) setMachine(choice.machine);
  }, [machine, status, machines, lastUsed, setMachine]);
}

/** The host answered and has no machine: the welcome takes the place of every view. */
export function useNoMachine(): boolean {
  const status = useMachines((state) => state.status);
  const count = useMachines((state) => state.machines.length);
  return status === 'ready' && count === 0;
}

export function MachineGate({ view, children }: { view: View; children: ReactNode }) {
  const t = useT();
  useFirstMachineChoice();
  const status = useMachines((state) => state.status);
  const machine = useNavigation((state) => state.machine);
  if (useNoMachine()) return <WelcomeView />;
  if (view === 'machines' || machine !== undefined) return children;
  const loading = status === 'idle' || status === 'loading';
  return (
    <>
      <ViewHeader title={t(viewLabels[view])} description={t(viewDescriptions[view])} actions={<MachinePicker />} />
      <div className="view-body">
        {loading ? (
          <div className="loading" role="status">
            <span className="spinner" aria-hidden="true" />
            {t('machines.loading')}
          </div>
        ) : (
          <div className="empty">
            <Icon name="machines" size={32} />
            <h2>{t('machineGate.choose.title')}</h2>
            <p>{t('machineGate.choose.body')}</p>
          </div>
        )}
      </div>
    </>
  );
}
