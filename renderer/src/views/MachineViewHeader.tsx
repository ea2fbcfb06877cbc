import type { ReactNode } from 'react';
import { MachinePicker, RefreshButton } from '../components/MachinePicker';
import { viewLabels } from '../components/Sidebar';
import { useT } from '../i18n';
import type { View } from '../stores/navigation';
import { ViewHeader } from './ViewHeader';

/**
 * The header of a view that acts on one machine: its title and description, the machine picker,
 * a refresh that spins while the view's data loads (and waits while the machine cannot be asked),
 * then the view's own actions.
 */
export function MachineViewHeader({
  view,
  refresh,
  children,
}: {
  view: Exclude<View, 'machines'>;
  refresh?: { onClick: () => void; loading: boolean; disabled: boolean };
  children?: ReactNode;
}) {
  const t = useT();
  return (
    <ViewHeader
      title={t(viewLabels[view])}
      description={t(`view.${view}.description`)}
      actions={
        <>
          <MachinePicker />
          {refresh && <RefreshButton {...refresh} label={t('common.refresh')} />}
          {children}
        </>
      }
    />
  );
}
