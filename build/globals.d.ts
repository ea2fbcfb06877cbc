/** Replaced by esbuild at build time with package.json's version. */
declare const __ONGGI_VERSION__: string | undefined;
