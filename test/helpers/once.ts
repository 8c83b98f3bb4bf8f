/**
 * A memoised lazy value: the first call runs `make`, later calls return the same promise/value.
 * Shared fixtures are built by whichever test first needs them, so every test runs alone too
 * (`node --test --test-name-pattern=...`), and no test depends on another test's body.
 */
export function once<T>(make: () => T): () => T {
  let made = false;
  let value: T;
  return () => {
    if (!made) {
      value = make();
      made = true;
    }
    return value;
  };
}
