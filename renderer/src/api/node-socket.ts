/// <reference types="node" />
// The `ws` package behind the WebSocket client's socket interface, for the tests that run the
// window's client in Node (the app itself uses browserSocket). With `origin`, the handshake
// carries the Origin the served page would send, as browser mode requires.
import { WebSocket } from 'ws';
import type { SocketFactory } from './ws-client';

export function nodeSocket(options: { origin?: string } = {}): SocketFactory {
  return (url, handlers) => {
    const socket = new WebSocket(url, options.origin ? { origin: options.origin } : {});
    socket.on('open', () => handlers.open());
    socket.on('message', (data, isBinary) => {
      if (!isBinary) handlers.message(data.toString());
    });
    socket.on('error', () => undefined);
    socket.on('close', () => handlers.close());
    return { send: (frame) => socket.send(frame), close: () => socket.close() };
  };
}
