export const ONGGI_VERSION: string = typeof __ONGGI_VERSION__ === 'string' ? __ONGGI_VERSION__ : '0.0.0-dev';
