import type { ReactNode } from 'react';

export function ViewHeader({ title, description, actions }: { title: string; description: string; actions?: ReactNode }) {
  return (
    <header className="view-header">
      <div>
        <h1>{title}</h1>
        <p className="view-description">{description}</p>
      </div>
      {actions && <div className="view-actions">{actions}</div>}
    </header>
  );
}
