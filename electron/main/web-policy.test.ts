import { describe, expect, it } from 'vitest';
import { CONTENT_SECURITY_POLICY, isExternalLinkAllowed, withContentSecurityPolicy } from './web-policy.js';

describe('CONTENT_SECURITY_POLICY', () => {
  it('is the strict policy the renderer is built for', () => {
    expect(CONTENT_SECURITY_POLICY).toBe(
      "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; " +
        "object-src 'none'; base-uri 'none'; frame-ancestors 'none'",
    );
    expect(CONTENT_SECURITY_POLICY).not.toMatch(/unsafe-eval|script-src[^;]*unsafe-inline|\*/);
  });
});

describe('withContentSecurityPolicy', () => {
  it('adds the policy and keeps other headers', () => {
    expect(withContentSecurityPolicy({ 'Content-Type': ['text/html'] })).toEqual({
      'Content-Type': ['text/html'],
      'Content-Security-Policy': [CONTENT_SECURITY_POLICY],
    });
    expect(withContentSecurityPolicy(undefined)).toEqual({ 'Content-Security-Policy': [CONTENT_SECURITY_POLICY] });
  });

  it('replaces a weaker policy in any letter case', () => {
    const headers = withContentSecurityPolicy({ 'content-security-policy': ["default-src *; script-src 'unsafe-eval'"], 'X-A': ['1'] });
    expect(headers).toEqual({ 'X-A': ['1'], 'Content-Security-Policy': [CONTENT_SECURITY_POLICY] });
  });
});

describe('isExternalLinkAllowed', () => {
  it('lets https links go to the browser', () => {
    expect(isExternalLinkAllowed('https://github.com/onggi/onggi/issues')).toBe(true);
  });

  it.each([
    'http://example.com/',
    'file:///etc/passwd',
    'javascript:alert(1)',
    'smb://share/x',
    'ms-msdt:/id',
    'https://user:pass@example.com/',
    'not a url',
    '',
  ])('drops %s', (url) => {
    expect(isExternalLinkAllowed(url)).toBe(false);
  });
});
