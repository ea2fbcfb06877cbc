// What an EC2 machine's card shows besides the common parts: the instance's state, type and
// address (asked of AWS through `machines.describe`), a button that moves the SSH rule to this
// desktop's new public address when it changed, and the auto-stop warning the instance's agent
// sends before it shuts itself down.
import { useEffect, useState } from 'react';
import { errorMessage } from '../../../../shared/errors.js';
import type { MachineSummary } from '../../../../shared/host-api.js';
import type { Ec2MachineView } from '../../../../shared/machines.js';
import { Fact, FactGroup } from '../../components/Facts';
import { Icon } from '../../components/icons';
import { useT } from '../../i18n';
import { useClient } from '../../stores';
import { useToasts } from '../../stores/toasts';

export function Ec2Panel({ machine }: { machine: MachineSummary }) {
  const t = useT();
  const client = useClient();
  const push = useToasts((state) => state.push);
  const [view, setView] = useState<Ec2MachineView>();
  const [idleMinutes, setIdleMinutes] = useState<number>();
  const [updating, setUpdating] = useState(false);

  const [generation, setGeneration] = useState(0);
  // Looked up again whenever the machine's state changes (a start, a stop, a new link) or after a rule update.
  useEffect(() => {
    let current = true;
    client.call('machines.describe', {}).then(
      (views) => {
        const found = views.find((candidate) => candidate.name === machine.name);
        if (current && found?.provider === 'ec2') setView(found);
      },
      (caught: unknown) =>
        current && push({ tone: 'bad', title: t('machine.ec2.lookupFailed', { machine: machine.name }), detail: errorMessage(caught) }),
    );
    return () => {
      current = false;
    };
  }, [client, push, t, machine.name, machine.state, generation]);
  useEffect(
    () =>
      client.onEvent((event) => {
        if (event.type === 'machine.event' && event.machine === machine.name && event.event.type === 'idle.warning') {
          setIdleMinutes(event.event.minutes);
        }
        if (event.type === 'machine.state' && event.machine === machine.name && event.state !== 'ready') setIdleMinutes(undefined);
      }),
    [client, machine.name],
  );

  const updateRule = async (): Promise<void> => {
    setUpdating(true);
    try {
      const { cidr } = await client.call('machines.updateEc2Rule', { machine: machine.name });
      push({ tone: 'ok', title: t('machine.ec2.ruleUpdated', { machine: machine.name, cidr }) });
      setGeneration((value) => value + 1);
    } catch (error) {
      push({ tone: 'bad', title: t('machine.ec2.ruleFailed', { machine: machine.name }), detail: errorMessage(error) });
    } finally {
      setUpdating(false);
    }
  };

  if (!view) return null;
  return (
    <div className="ec2-panel">
      {idleMinutes !== undefined && (
        <div className="callout callout--warn" role="alert">
          <Icon name="alert" />
          <p>{t('machine.ec2.idleWarning', { machine: machine.name, minutes: idleMinutes })}</p>
        </div>
      )}
      {view.ruleOutdated && (
        <div className="callout callout--warn" role="alert">
          <Icon name="alert" />
          <p>{t('machine.ec2.ruleOutdated', { rule: view.ruleOutdated.rule, now: view.ruleOutdated.now })}</p>
          <button type="button" className="button button--small" onClick={() => void updateRule()} disabled={updating}>
            {t('machine.ec2.updateRule')}
          </button>
        </div>
      )}
      {view.error && (
        <div className="callout callout--bad" role="alert">
          <Icon name="alert" />
          <p>{view.error}</p>
        </div>
      )}
      <FactGroup title={t('machine.ec2.instance')} icon="system">
        <Fact term={t('machine.ec2.instanceId')} mono>
          {view.instanceId}
        </Fact>
        <Fact term={t('machine.ec2.state')}>{view.instanceState ?? '—'}</Fact>
        <Fact term={t('machine.ec2.type')} mono>
          {view.instanceType ?? '—'}
        </Fact>
        <Fact term={t('machine.ec2.address')} mono>
          {view.address ?? '—'}
        </Fact>
        <Fact term={t('machine.ec2.region')} mono>
          {view.region}
        </Fact>
        <Fact term={t('machine.ec2.idle')}>
          {view.idleMinutes === 0 ? t('machine.ec2.idleOff') : t('machine.ec2.idleMinutes', { minutes: view.idleMinutes })}
        </Fact>
      </FactGroup>
    </div>
  );
}
