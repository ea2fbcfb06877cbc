// The sections not built yet (Networks with its topology graph, Terminals): say so plainly
// instead of showing an empty table that suggests nothing is there.
import { Icon } from '../components/icons';
import { viewLabels } from '../components/Sidebar';
import { useT, type MessageKey } from '../i18n';
import { useNavigation, type View } from '../stores/navigation';
import { ViewHeader } from './ViewHeader';

type FutureView = Exclude<View, 'machines' | 'containers' | 'images' | 'activity'>;

const descriptions: Record<FutureView, MessageKey> = {
  networks: 'view.networks.description',
  terminals: 'view.terminals.description',
};

export function PlaceholderView({ view }: { view: FutureView }) {
  const t = useT();
  const go = useNavigation((state) => state.go);
  return (
    <>
      <ViewHeader title={t(viewLabels[view])} description={t(descriptions[view])} />
      <div className="view-body">
        <div className="empty empty--large">
          <span className="empty-icon">
            <Icon name={view} size={36} />
          </span>
          <span className="tag">{t('placeholder.badge')}</span>
          <h2>{t('placeholder.title')}</h2>
          <p>{t('placeholder.body')}</p>
          <button type="button" className="button button--primary" onClick={() => go('machines')}>
            <Icon name="machines" size={16} />
            {t('placeholder.goToMachines')}
          </button>
        </div>
      </div>
    </>
  );
}
