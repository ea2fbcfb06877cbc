// Line icons drawn for Onggi (24×24, stroke in currentColor). Decorative: they are hidden from
// assistive technology and always sit next to text that says the same thing.
import type { ReactNode } from 'react';

export type IconName =
  | 'machines'
  | 'containers'
  | 'images'
  | 'networks'
  | 'volumes'
  | 'terminals'
  | 'activity'
  | 'refresh'
  | 'alert'
  | 'cpu'
  | 'memory'
  | 'clock'
  | 'system'
  | 'kernel'
  | 'cgroups'
  | 'agent'
  | 'arch'
  | 'play'
  | 'stop'
  | 'kill'
  | 'trash'
  | 'plus'
  | 'copy'
  | 'search'
  | 'close'
  | 'check'
  | 'download'
  | 'logs'
  | 'chart'
  | 'code'
  | 'layers'
  | 'folder'
  | 'info';

const paths: Record<IconName, ReactNode> = {
  machines: (
    <>
      <rect x="3" y="4" width="18" height="7" rx="2" />
      <rect x="3" y="13" width="18" height="7" rx="2" />
      <path d="M7 7.5h.01M7 16.5h.01" />
    </>
  ),
  containers: (
    <>
      <path d="M21 7.5 12 3 3 7.5v9L12 21l9-4.5z" />
      <path d="m3 7.5 9 4.5 9-4.5M12 12v9" />
    </>
  ),
  images: (
    <>
      <path d="M12 3 2 8l10 5 10-5z" />
      <path d="m2 12.5 10 5 10-5" />
      <path d="m2 17 10 5 10-5" />
    </>
  ),
  networks: (
    <>
      <circle cx="12" cy="5" r="2.5" />
      <circle cx="5" cy="19" r="2.5" />
      <circle cx="19" cy="19" r="2.5" />
      <path d="M10.8 7.2 6.2 16.8M13.2 7.2l4.6 9.6M7.5 19h9" />
    </>
  ),
  volumes: (
    <>
      <ellipse cx="12" cy="5.5" rx="8" ry="2.5" />
      <path d="M4 5.5v13c0 1.4 3.6 2.5 8 2.5s8-1.1 8-2.5v-13M4 12c0 1.4 3.6 2.5 8 2.5s8-1.1 8-2.5" />
    </>
  ),
  terminals: (
    <>
      <rect x="3" y="4" width="18" height="16" rx="2" />
      <path d="m7 9 3 3-3 3M12 15h5" />
    </>
  ),
  activity: <path d="M3 12h4l3-8 4 16 3-8h4" />,
  refresh: (
    <>
      <path d="M20 12a8 8 0 1 1-2.34-5.66" />
      <path d="M20 4v5h-5" />
    </>
  ),
  alert: (
    <>
      <path d="M10.3 3.9 1.8 18a2 2 0 0 0 1.7 3h17a2 2 0 0 0 1.7-3L13.7 3.9a2 2 0 0 0-3.4 0z" />
      <path d="M12 9v4M12 17h.01" />
    </>
  ),
  cpu: (
    <>
      <rect x="6" y="6" width="12" height="12" rx="1.5" />
      <rect x="9.5" y="9.5" width="5" height="5" rx="0.5" />
      <path d="M9 2.5V6M15 2.5V6M9 18v3.5M15 18v3.5M2.5 9H6M2.5 15H6M18 9h3.5M18 15h3.5" />
    </>
  ),
  memory: (
    <>
      <rect x="2" y="7" width="20" height="10" rx="1.5" />
      <path d="M6 10.5v3M10 10.5v3M14 10.5v3M18 10.5v3M6 17v3M18 17v3" />
    </>
  ),
  clock: (
    <>
      <circle cx="12" cy="12" r="9" />
      <path d="M12 7v5l3 2" />
    </>
  ),
  system: (
    <>
      <rect x="2" y="4" width="20" height="13" rx="2" />
      <path d="M8 21h8M12 17v4" />
    </>
  ),
  kernel: (
    <>
      <path d="M12 2.5 20.5 7.3v9.4L12 21.5l-8.5-4.8V7.3z" />
      <circle cx="12" cy="12" r="3" />
    </>
  ),
  cgroups: (
    <>
      <path d="M4 6h10M18 6h2M4 12h4M12 12h8M4 18h12M20 18h0" />
      <circle cx="16" cy="6" r="2" />
      <circle cx="10" cy="12" r="2" />
      <circle cx="18" cy="18" r="2" />
    </>
  ),
  agent: (
    <>
      <rect x="4" y="8" width="16" height="12" rx="2.5" />
      <path d="M12 8V5M9 13v2M15 13v2" />
      <circle cx="12" cy="3.5" r="1.5" />
    </>
  ),
  arch: (
    <>
      <path d="M4 7h16M4 12h16M4 17h16" />
      <path d="M8 4v16M16 4v16" />
    </>
  ),
  play: <path d="M7 4.5v15l12-7.5z" />,
  stop: <rect x="6" y="6" width="12" height="12" rx="1.5" />,
  kill: (
    <>
      <circle cx="12" cy="12" r="9" />
      <path d="m9 9 6 6M15 9l-6 6" />
    </>
  ),
  trash: (
    <>
      <path d="M4 7h16M9.5 7V4.5h5V7M6.5 7l1 13h9l1-13" />
      <path d="M10 11v5.5M14 11v5.5" />
    </>
  ),
  plus: <path d="M12 5v14M5 12h14" />,
  copy: (
    <>
      <rect x="8.5" y="8.5" width="12" height="12" rx="2" />
      <path d="M15.5 8.5V5.5a2 2 0 0 0-2-2h-8a2 2 0 0 0-2 2v8a2 2 0 0 0 2 2h3" />
    </>
  ),
  search: (
    <>
      <circle cx="10.5" cy="10.5" r="6.5" />
      <path d="m15.5 15.5 5 5" />
    </>
  ),
  close: <path d="M6 6l12 12M18 6 6 18" />,
  check: <path d="m5 12.5 4.5 4.5L19 7.5" />,
  download: (
    <>
      <path d="M12 3.5v12M7 11l5 5 5-5" />
      <path d="M4 20h16" />
    </>
  ),
  logs: (
    <>
      <path d="M5 4h14v16H5z" />
      <path d="M8.5 8.5h7M8.5 12h7M8.5 15.5h4" />
    </>
  ),
  chart: (
    <>
      <path d="M4 4v16h16" />
      <path d="m7.5 14.5 3.5-4 3 2.5 5-6" />
    </>
  ),
  code: <path d="m8.5 7-5 5 5 5M15.5 7l5 5-5 5" />,
  folder: <path d="M3.5 6.5a1.5 1.5 0 0 1 1.5-1.5h4.5l2 2.5H19a1.5 1.5 0 0 1 1.5 1.5v8.5A1.5 1.5 0 0 1 19 19H5a1.5 1.5 0 0 1-1.5-1.5z" />,
  layers: (
    <>
      <path d="M12 3 2.5 8 12 13l9.5-5z" />
      <path d="m2.5 16 9.5 5 9.5-5" />
    </>
  ),
  info: (
    <>
      <circle cx="12" cy="12" r="9" />
      <path d="M12 11v5.5M12 7.6h.01" />
    </>
  ),
};

export function Icon({ name, size = 18, className }: { name: IconName; size?: number; className?: string }) {
  return (
    <svg
      className={className ? `icon ${className}` : 'icon'}
      width={size}
      height={size}
      viewBox="0 0 24 24"
      fill="none"
      stroke="currentColor"
      strokeWidth={1.75}
      strokeLinecap="round"
      strokeLinejoin="round"
      aria-hidden="true"
      focusable="false"
    >
      {paths[name]}
    </svg>
  );
}

/** The mark: an onggi, the Korean earthenware jar that keeps things for a long time. */
export function Logo({ size = 32 }: { size?: number }) {
  return (
    <svg className="logo" width={size} height={size} viewBox="0 0 32 32" aria-hidden="true" focusable="false">
      <rect width="32" height="32" rx="8" className="logo-tile" />
      <path className="logo-jar" d="M12.5 8.5c-4.8 1.4-7 5-6.6 9.6.5 5.3 4.3 8.4 10.1 8.4s9.6-3.1 10.1-8.4c.4-4.6-1.8-8.2-6.6-9.6z" />
      <rect x="11.5" y="5.5" width="9" height="3.2" rx="1.6" className="logo-jar" />
      <path className="logo-band" d="M8.3 16.2c1.3-1.2 2.6-1.2 3.9 0s2.6 1.2 3.8 0 2.6-1.2 3.8 0 2.6 1.2 3.9 0" />
    </svg>
  );
}
