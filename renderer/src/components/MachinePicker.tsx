// Which machine the container, image and activity views act on. A machine other than this
// computer is used only once it says it is ready: opening a view never boots a VM or dials a host.
// Each option says its machine's connection state (deploying 42%, lost, retrying in 5 s).
import { useEffect, useId, type ReactNode } from 'react';
import type { MachineSummary } from '../../../shared/host-api.js';
import { useT } from '../i18n';
import { useMachines } from '../stores';
import { shouldReadInfo } from '../stores/machines';
import { useNavigation } from '../stores/navigation';
import { Icon } from './icons';
import { countsDown, machineStatusText, useNow } from './machine-status';
import { StateBadge } from './StateBadge';

export function MachinePicker() {
  const t = useT();
  const id = useId();
  const machines = useMachines((state) => state.machines);
  const machine = useNavigation((state) => state.machine);
  const setMachine = useNavigation((state) => state.setMachine);
  const remember = useMachines((state) => state.remember);
  const deploy = useMachines((state) => state.deploy);
  const now = useNow(machines.some(countsDown));
  const options = machines.map((other) => ({
    name: other.name,
    label: t('machinePicker.option', { machine: other.name, state: machineStatusText(t, other, deploy[other.name], now) }),
  }));
  // The chosen machine stays selectable while the list loads or after it went away.
  if (machine !== undefined && !machines.some((other) => other.name === machine)) options.unshift({ name: machine, label: machine });
  const choose = (name: string): void => {
    setMachine(name);
    void remember(name); // remembered on the host: the next window, browser tab and `onggi` command start here
  };
  return (
    <div className="machine-picker">
      <label htmlFor={id}>
        <Icon name="machines" size={16} />
        <span>{t('machinePicker.label')}</span>
      </label>
      <select id={id} value={machine ?? ''} onChange={(event) => choose(event.target.value)}>
        {machine === undefined && (
          <option value="" disabled>
            {t('machinePicker.choose')}
          </option>
        )}
        {options.map((option) => (
          <option key={option.name} value={option.name}>
            {option.label}
          </option>
        ))}
      </select>
    </div>
  );
}

/**
 * The chosen machine, and whether its agent may be asked (this computer always; others when ready).
 * Only for views inside the App's MachineGate, which renders them once a machine is chosen.
 */
export function useCurrentMachine(): { name: string; summary?: MachineSummary; usable: boolean } {
  const name = useNavigation((state) => state.machine);
  const summary = useMachines((state) => state.machines.find((machine) => machine.name === name));
  if (name === undefined) throw new Error('useCurrentMachine: no machine is chosen (render the view inside MachineGate)');
  const usable = summary ? shouldReadInfo(summary) : name === 'local';
  return { name, summary, usable };
}

/** The current machine, with `load` run for it whenever the choice changes or it becomes usable. */
export function useMachineLoad(load: (machine: string) => Promise<void>): ReturnType<typeof useCurrentMachine> {
  const current = useCurrentMachine();
  const { name, usable } = current;
  useEffect(() => {
    if (usable) void load(name);
  }, [load, name, usable]);
  return current;
}

/** A view's refresh action: spins while its data loads. */
export function RefreshButton({
  onClick,
  loading,
  disabled,
  label,
}: {
  onClick: () => void;
  loading: boolean;
  disabled?: boolean;
  label: string;
}) {
  return (
    <button type="button" className="button" onClick={onClick} disabled={disabled || loading}>
      <Icon name="refresh" size={16} className={loading ? 'spin' : undefined} />
      {label}
    </button>
  );
}

/** Shown instead of a view's content while its machine cannot be asked. */
export function MachineNotReady({ name, summary }: { name: string; summary?: MachineSummary }): ReactNode {
  const t = useT();
  const go = useNavigation((state) => state.go);
  return (
    <div className="empty">
      <Icon name="machines" size={32} />
      <h2>{t('machineGate.title', { machine: name })}</h2>
      {summary && <StateBadge state={summary.state} />}
      <p>{t('machineGate.body')}</p>
      <button type="button" className="button" onClick={() => go('machines')}>
        {t('placeholder.goToMachines')}
      </button>
    </div>
  );
}
