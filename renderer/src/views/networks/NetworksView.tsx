// Networks: the machine's bridge networks (create with the subnet checked as you type, remove),
// and the live topology graph of what the kernel reports. A topology.changed event from the agent
// reads the snapshot again; the layout runs in ELK's worker and the previous picture stays until
// the new one is ready. Pick two containers on the graph to probe one from the other.
import { useEffect, useMemo, useRef, useState, type FormEvent } from 'react';
import { errorMessage } from '../../../../shared/errors.js';
import { NetworkName, Subnet, type NetworkSummary, type ProbeResult } from '../../../../shared/networks.js';
import { Field } from '../../components/Field';
import { Icon } from '../../components/icons';
import { MachineNotReady, useMachineLoad } from '../../components/MachinePicker';
import { ConfirmDialog } from '../../components/Modal';
import { formatMilliseconds, formatNumber, useLanguage, useT } from '../../i18n';
import { useClient, useNetworks } from '../../stores';
import { useToasts } from '../../stores/toasts';
import { MachineViewHeader } from '../MachineViewHeader';
import { workerElk } from './elk-worker';
import { layoutGraph, type Layout } from './layout';
import { TopologyGraph } from './TopologyGraph';
import { buildGraph, probePath, type GraphModel, type GraphNode } from './topology-model';

/** The view's data from the networks store, read when the machine is shown (and again on reconnect). */
function useNetworkData() {
  const load = useNetworks((state) => state.load);
  const networks = useNetworks((state) => state.networks);
  const topology = useNetworks((state) => state.topology);
  const error = useNetworks((state) => state.error);
  const status = useNetworks((state) => state.status);
  const current = useMachineLoad(load);
  return { current, networks, topology, error, loading: status === 'loading' || status === 'idle', reload: () => void load(current.name) };
}

function useLayout(model: GraphModel | undefined): Layout | undefined {
  const [layout, setLayout] = useState<Layout>();
  useEffect(() => {
    if (!model) return;
    let current = true;
    layoutGraph(model, workerElk()).then(
      (next) => current && setLayout(next),
      (error: unknown) => console.warn('onggi: topology layout failed:', error),
    );
    return () => {
      current = false;
    };
  }, [model]);
  return layout;
}

type Counters = ReadonlyMap<string, { rxBytes: number; txBytes: number }>;

export function sameCounters(a: Counters, b: Counters): boolean {
  if (a.size !== b.size) return false;
  for (const [name, value] of a) {
    const other = b.get(name);
    if (!other || other.rxBytes !== value.rxBytes || other.txBytes !== value.txBytes) return false;
  }
  return true;
}

/** How often the veths' counters are read while the graph is shown (issue 16: at most every 2 s). */
export const TRAFFIC_REFRESH_MS = 2000;

/**
 * The machine's links' byte counters, read every TRAFFIC_REFRESH_MS while the graph is on screen
 * and the window visible: one read of /proc/self/net/dev by the agent, no spawn, so an idle window
 * costs next to nothing. Nothing is read while there is no veth to label.
 */
function useTraffic(machine: string, enabled: boolean): Counters | undefined {
  const client = useClient();
  const [traffic, setTraffic] = useState<Counters>();
  useEffect(() => {
    if (!enabled) return;
    let current = true;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const read = (): void => {
      if (document.visibilityState !== 'visible') {
        timer = setTimeout(read, TRAFFIC_REFRESH_MS);
        return;
      }
      client.call('topology.counters', { machine }).then(
        (counters) => {
          if (!current) return;
          const next = new Map(counters.links.map((link) => [link.name, { rxBytes: link.rxBytes, txBytes: link.txBytes }]));
          // Unchanged counters (no traffic) leave the graph as drawn: no render while nothing moves.
          setTraffic((previous) => (previous && sameCounters(previous, next) ? previous : next));
          timer = setTimeout(read, TRAFFIC_REFRESH_MS);
        },
        // A machine that does not answer (lost, an older agent) keeps the last counters; the next read tries again.
        () => current && (timer = setTimeout(read, TRAFFIC_REFRESH_MS)),
      );
    };
    read();
    return () => {
      current = false;
      clearTimeout(timer);
    };
  }, [client, machine, enabled]);
  return enabled ? traffic : undefined;
}

function CreateNetwork({ machine, onCreated }: { machine: string; onCreated: () => void }) {
  const t = useT();
  const client = useClient();
  const push = useToasts((state) => state.push);
  const [name, setName] = useState('');
  const [subnet, setSubnet] = useState('');
  const [busy, setBusy] = useState(false);
  const [touched, setTouched] = useState(false);
  const nameCheck = NetworkName.safeParse(name);
  const subnetCheck = subnet.trim() === '' ? undefined : Subnet.safeParse(subnet.trim());
  const nameError =
    touched && !nameCheck.success ? (name === '' ? t('run.error.required') : nameCheck.error.issues[0]?.message) : undefined;
  const subnetError = subnetCheck && !subnetCheck.success ? subnetCheck.error.issues[0]?.message : undefined;

  const submit = async (event: FormEvent): Promise<void> => {
    event.preventDefault();
    setTouched(true);
    if (!nameCheck.success || subnetError) return;
    setBusy(true);
    try {
      const created = await client.call('networks.create', { machine, name, ...(subnet.trim() ? { subnet: subnet.trim() } : {}) });
      push({ tone: 'ok', title: t('networks.created', { name: created.name, subnet: created.subnet }) });
      setName('');
      setSubnet('');
      setTouched(false);
      onCreated();
    } catch (error) {
      push({ tone: 'bad', title: t('networks.createFailed', { name }), detail: errorMessage(error) });
    } finally {
      setBusy(false);
    }
  };

  return (
    <form className="card network-create" onSubmit={(event) => void submit(event)} aria-label={t('networks.create')}>
      <h2 className="subhead">{t('networks.create')}</h2>
      <Field label={t('networks.name')} {...(nameError ? { error: nameError } : {})}>
        <input value={name} onChange={(event) => setName(event.target.value)} onBlur={() => setTouched(true)} autoComplete="off" />
      </Field>
      <Field label={t('networks.subnet')} hint={t('networks.subnet.hint')} {...(subnetError ? { error: subnetError } : {})}>
        <input value={subnet} onChange={(event) => setSubnet(event.target.value)} autoComplete="off" className="mono" />
      </Field>
      <button type="submit" className="button button--primary" disabled={busy}>
        <Icon name="plus" size={16} />
        {busy ? t('networks.creating') : t('networks.createButton')}
      </button>
    </form>
  );
}

export function NetworksView() {
  const t = useT();
  const language = useLanguage();
  const client = useClient();
  const push = useToasts((state) => state.push);
  const data = useNetworkData();
  const { name: machine, summary, usable } = data.current;
  const model = useMemo(() => (data.topology ? buildGraph(data.topology) : undefined), [data.topology]);
  const layout = useLayout(model);
  const traffic = useTraffic(machine, usable && (model?.edges.some((edge) => edge.kind === 'veth') ?? false));
  const [picked, setPicked] = useState<string[]>([]);
  const [probe, setProbe] = useState<{ from: string; to: string; result?: ProbeResult; error?: string; running: boolean }>();
  const [confirm, setConfirm] = useState<NetworkSummary>();
  const probeRound = useRef(0);

  const runProbe = (from: GraphNode, to: GraphNode): void => {
    const round = ++probeRound.current;
    setProbe({ from: from.label, to: to.label, running: true });
    client.call('networks.probe', { machine, from: from.name ?? from.label, to: to.name ?? to.label }).then(
      (result) => round === probeRound.current && setProbe({ from: from.label, to: to.label, result, running: false }),
      (error: unknown) =>
        round === probeRound.current && setProbe({ from: from.label, to: to.label, error: errorMessage(error), running: false }),
    );
  };
  const onPick = (node: GraphNode): void => {
    if (!model) return;
    const next = picked.includes(node.id) ? picked.filter((id) => id !== node.id) : [...picked, node.id].slice(-2);
    setPicked(next);
    const [a, b] = next.map((id) => model.nodes.find((candidate) => candidate.id === id));
    if (a && b) runProbe(a, b);
    else setProbe(undefined);
  };
  const visiblePicked = model ? picked.filter((id) => model.nodes.some((node) => node.id === id)) : [];
  const path =
    model && probe && !probe.running && visiblePicked.length === 2 && visiblePicked[0] && visiblePicked[1]
      ? { edges: probePath(model, visiblePicked[0], visiblePicked[1]), ok: probe.result?.ok === true }
      : undefined;

  const remove = async (network: NetworkSummary): Promise<void> => {
    try {
      await client.call('networks.remove', { machine, network: network.id });
      push({ tone: 'ok', title: t('networks.removed', { name: network.name }) });
      data.reload();
    } catch (error) {
      push({ tone: 'bad', title: t('networks.removeFailed', { name: network.name }), detail: errorMessage(error) });
    }
  };

  return (
    <>
      <MachineViewHeader view="networks" refresh={{ onClick: data.reload, loading: data.loading && usable, disabled: !usable }} />
      <div className="view-body networks">
        {!usable ? (
          <MachineNotReady name={machine} {...(summary ? { summary } : {})} />
        ) : (
          <>
            <div className="network-list">
              {data.error && (
                <div className="callout" role="alert">
                  <Icon name="alert" />
                  <p>{t('networks.listError', { message: data.error })}</p>
                </div>
              )}
              <table className="data-table" aria-label={t('networks.tableLabel', { machine })}>
                <thead>
                  <tr>
                    <th scope="col">{t('networks.name')}</th>
                    <th scope="col">{t('networks.subnet')}</th>
                    <th scope="col" className="numeric">
                      {t('networks.containers')}
                    </th>
                    <th scope="col">
                      <span className="visually-hidden">{t('containers.column.actions')}</span>
                    </th>
                  </tr>
                </thead>
                <tbody>
                  {data.networks.map((network) => (
                    <tr key={network.id}>
                      <th scope="row">
                        {network.name}
                        <span className="cell-sub mono">{network.bridge}</span>
                      </th>
                      <td className="mono">
                        {network.subnet}
                        <span className="cell-sub">{t('networks.gateway', { gateway: network.gateway })}</span>
                      </td>
                      <td className="numeric">{formatNumber(language, network.containers)}</td>
                      <td>
                        <button
                          type="button"
                          className="icon-button icon-button--danger"
                          aria-label={t('networks.remove', { name: network.name })}
                          onClick={() => setConfirm(network)}
                        >
                          <Icon name="trash" size={16} />
                        </button>
                      </td>
                    </tr>
                  ))}
                  {!data.loading && data.networks.length === 0 && (
                    <tr>
                      <td colSpan={4} className="muted">
                        {t('networks.empty')}
                      </td>
                    </tr>
                  )}
                </tbody>
              </table>
              <CreateNetwork machine={machine} onCreated={data.reload} />
            </div>
            <div className="graph-column">
              {model && layout ? (
                <TopologyGraph
                  label={t('graph.label', { machine })}
                  model={model}
                  layout={layout}
                  selected={visiblePicked}
                  onPick={onPick}
                  exportName={`onggi-topology-${machine}`}
                  {...(path ? { path } : {})}
                  {...(traffic ? { traffic } : {})}
                />
              ) : (
                <div className="loading" role="status">
                  <span className="spinner" aria-hidden="true" />
                  {t('graph.loading')}
                </div>
              )}
              <div
                role="status"
                aria-label={t('probe.label')}
                className={
                  probe?.result ? (probe.result.ok ? 'probe-result probe-result--ok' : 'probe-result probe-result--bad') : 'probe-result'
                }
              >
                {!probe && t('probe.hint')}
                {probe?.running && t('probe.running', { from: probe.from, to: probe.to })}
                {probe?.result &&
                  (probe.result.ok
                    ? t('probe.ok', {
                        from: probe.from,
                        to: probe.to,
                        address: probe.result.address,
                        latency: probe.result.latencyMs !== null ? formatMilliseconds(language, probe.result.latencyMs) : '—',
                      })
                    : t('probe.failed', {
                        from: probe.from,
                        to: probe.to,
                        address: probe.result.address,
                        error: probe.result.error ?? '',
                      }))}
                {probe?.error && t('probe.error', { from: probe.from, to: probe.to, message: probe.error })}
              </div>
            </div>
          </>
        )}
      </div>
      {confirm && (
        <ConfirmDialog
          danger
          title={t('networks.confirm.title', { name: confirm.name })}
          body={<p>{t('networks.confirm.body')}</p>}
          confirmLabel={t('networks.confirm.button')}
          onCancel={() => setConfirm(undefined)}
          onConfirm={() => {
            const network = confirm;
            setConfirm(undefined);
            void remove(network);
          }}
        />
      )}
    </>
  );
}
