// Recursion without the JavaScript stack: resolution's nested work (a block inlined in a block,
// a value defined by a later one) as generators that a loop runs on a stack of its own.

/**
 * A piece of work that may wait on others: it yields a sub-task and is resumed with that
 * sub-task's result. Yield them through `wait`, which keeps the result's type.
 */
export type Task<T> = Generator<Task<unknown>, T, unknown>;

/** Runs `task` to its end and returns its result: `const ref = yield* wait(this.inline(...))`. */
export function* wait<T>(task: Task<T>): Generator<Task<unknown>, T, unknown> {
  return (yield task) as T;
}

/** A task that needs nothing: its result is already known. */
export function* done<T>(value: T): Task<T> {
  return value;
}

/**
 * Runs a task and every task it waits on with an array for a stack: a chain of 700 blocks,
 * each using the previous one, nests 700 deep here and not in the JavaScript stack, which
 * it overflowed.
 */
export function runTask<T>(task: Task<T>): T {
  const stack: Task<unknown>[] = [task];
  let result: unknown = undefined;
  for (;;) {
    const next = stack[stack.length - 1]!.next(result);
    if (next.done) {
      stack.pop();
      if (stack.length === 0) return next.value as T;
      result = next.value;
    } else {
      stack.push(next.value);
      result = undefined;
    }
  }
}
