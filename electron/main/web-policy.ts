// What the window's web content may do, as plain decisions (no Electron import) so they are unit
// tested: the Content-Security-Policy, and which links may leave the app for the OS browser.

/** Same policy as the renderer's meta tag; sent as a header too so it holds even if the page's copy is lost. */
export const CONTENT_SECURITY_POLICY = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "frame-ancestors 'none'",
].join('; ');

/** Response headers with any Content-Security-Policy the response carried replaced by ours. */
export function withContentSecurityPolicy(headers: Readonly<Record<string, string[]>> | undefined): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const [name, value] of Object.entries(headers ?? {})) {
    if (name.toLowerCase() !== 'content-security-policy') out[name] = value;
  }
  out['Content-Security-Policy'] = [CONTENT_SECURITY_POLICY];
  return out;
}

/** Links the app hands to the OS browser: https only, no credentials in the URL. Everything else is dropped. */
export function isExternalLinkAllowed(url: string): boolean {
  const parsed = URL.parse(url);
  return parsed !== null && parsed.protocol === 'https:' && parsed.username === '' && parsed.password === '';
}
