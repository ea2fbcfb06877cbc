// A test's clean-up, step by step: every step runs even when an earlier one failed (a sshd left
// running because the agent would not stop is a leak), and the first failure is reported.
export async function runAllSteps(steps: ReadonlyArray<() => Promise<unknown>>): Promise<void> {
  const failures: unknown[] = [];
  for (const step of steps) await step().catch((error: unknown) => failures.push(error));
  if (failures.length > 0) throw failures[0];
}
