// For a file written whole on every change (a list of names): saves asked for while a write is in
// flight share the next write, which takes the value as it is when it starts. 100 containers
// starting at once registered their netns names with 100 rewrites of one list; now with two
// (issue 12: 100 concurrent starts). Every caller resolves once a write made after its change has
// finished (or rejects with that write's error).
export function coalescedSave(write: () => Promise<void>): () => Promise<void> {
  let inFlight: Promise<void> = Promise.resolve();
  let next: Promise<void> | undefined;
  return () => {
    next ??= inFlight
      // The previous write's failure went to its own callers; the next write is made all the same.
      .catch(() => undefined)
      .then(() => {
        next = undefined;
        inFlight = write();
        return inFlight;
      });
    return next;
  };
}
