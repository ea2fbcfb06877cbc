// Term/value pairs as a real definition list. Each value is labelled by its term, so assistive
// technology (and tests: getByLabel('Kernel release')) reads them as pairs.
import { useId, type ReactNode } from 'react';
import { Icon, type IconName } from './icons';

export function Fact({ term, children, mono, title }: { term: string; children: ReactNode; mono?: boolean; title?: string }) {
  const id = useId();
  return (
    <div className="fact">
      <dt id={id}>{term}</dt>
      <dd aria-labelledby={id} className={mono ? 'mono' : undefined} title={title}>
        {children}
      </dd>
    </div>
  );
}

/** A titled card holding one definition list. */
export function FactGroup({ title, icon, children }: { title: string; icon: IconName; children: ReactNode }) {
  const id = useId();
  return (
    <section className="fact-group" aria-labelledby={id}>
      <h3 id={id} className="fact-group-title">
        <Icon name={icon} size={16} />
        {title}
      </h3>
      <dl className="facts">{children}</dl>
    </section>
  );
}

/** A large figure with its label, for the handful of numbers people look at first. */
export function Tile({ term, icon, children, title }: { term: string; icon: IconName; children: ReactNode; title?: string }) {
  const id = useId();
  return (
    <div className="tile">
      <span className="tile-icon">
        <Icon name={icon} size={20} />
      </span>
      <div className="tile-text">
        <dt id={id}>{term}</dt>
        <dd aria-labelledby={id} title={title}>
          {children}
        </dd>
      </div>
    </div>
  );
}
