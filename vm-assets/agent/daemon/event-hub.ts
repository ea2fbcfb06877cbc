import type { AgentEvent } from '../../../shared/agent-rpc.js';

type Topic = AgentEvent['type'];
type Listener = (event: AgentEvent) => void;

/** Fans agent events out to the connections that subscribed to their topic. */
export class EventHub {
  private readonly subscribers = new Map<Listener, Set<Topic>>();

  subscribe(listener: Listener, topics: Iterable<Topic>): void {
    this.subscribers.set(listener, new Set(topics));
  }

  unsubscribe(listener: Listener): void {
    this.subscribers.delete(listener);
  }

  publish(event: AgentEvent): void {
    for (const [listener, topics] of this.subscribers) if (topics.has(event.type)) listener(event);
  }

  get size(): number {
    return this.subscribers.size;
  }
}
