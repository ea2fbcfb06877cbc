import { describe, expect, it } from 'vitest';
import { formatPortMapping, formatPortMappings, parsePortMapping } from './units.js';

describe('published ports in Docker’s spelling', () => {
  it('writes a mapping as docker ps does, and reads back what it wrote', () => {
    const mapping = parsePortMapping('8080:80');
    expect(formatPortMapping(mapping)).toBe('0.0.0.0:8080->80/tcp');
    expect(formatPortMapping(parsePortMapping('127.0.0.1:5353:53/udp'), '→')).toBe('127.0.0.1:5353→53/udp');
  });

  it('joins several with commas, and none is the empty string', () => {
    const ports = [parsePortMapping('8080:80'), parsePortMapping('8443:443')];
    expect(formatPortMappings(ports)).toBe('0.0.0.0:8080->80/tcp, 0.0.0.0:8443->443/tcp');
    expect(formatPortMappings(undefined)).toBe('');
    expect(formatPortMappings([])).toBe('');
  });
});
