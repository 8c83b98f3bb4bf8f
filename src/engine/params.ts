/**
 * Model parameters with per-instance engine names (many models in one process).
 *
 * TensorFlow.js keeps ONE process-wide registry of variables keyed by name and refuses a second
 * variable of the same name ("Variable with name enc.demo.mlp.l0.w was already registered"). Our
 * layers name their weights by their place in the model (`fusion.block0.moe.expert3.w1`), so two
 * models — or two copies of one model, or a training beside a loaded predictor — would collide.
 *
 * `param()` separates the two names:
 *   - the LOGICAL name (`paramName(v)`): the weight's place in the model. Files (weights.safetensors,
 *     checkpoints), optimizer/EMA state, freezing rules and analyses key weights by it, so it is the
 *     same in every process and for every copy of a model;
 *   - the ENGINE name (`v.name`): unique in this process. It is the logical name itself while no
 *     other live variable holds it (one model per process behaves exactly as before), otherwise the
 *     logical name with a `#<n>` suffix. Disposing a variable frees its engine name.
 *
 * Gradients from `tf.variableGrads` are keyed by the engine name (`grads[v.name]`): use `v.name`
 * for those maps and `paramName(v)` for everything that is saved, compared or matched by a rule.
 */
import { tf } from './tf.js';

/** Logical names of the variables created by `param()` (a variable made elsewhere has none). */
const logicalNames = new WeakMap<object, string>();
let suffixSeq = 0;

/** An engine name for `logical` that no live variable holds. */
function freeEngineName(logical: string): string {
  const registered = tf.engine().registeredVariables;
  if (registered[logical] == null) return logical;
  let candidate: string;
  do candidate = `${logical}#${++suffixSeq}`;
  while (registered[candidate] != null);
  return candidate;
}

/**
 * Creates a variable from `init` (the variable copies it; the caller still owns `init`) with the
 * logical name `name`, registered in the engine under a process-unique name. Use it instead of
 * `param(init, trainable, name)` everywhere a model, optimizer or average makes a weight.
 */
export function param(init: tf.Tensor, trainable: boolean, name: string): tf.Variable {
  const v = tf.variable(init, trainable, freeEngineName(name));
  logicalNames.set(v, name);
  return v;
}

/** The logical (file / checkpoint / rule) name of a weight: the name given to `param()`, else `v.name`. */
export function paramName(v: { readonly name: string }): string {
  return logicalNames.get(v) ?? v.name;
}

/** A model's weights by logical name (throws if two share one: every weight must be addressable). */
export function paramsByName<T extends { readonly name: string }>(variables: readonly T[], where = 'model'): Map<string, T> {
  const out = new Map<string, T>();
  for (const v of variables) {
    const n = paramName(v);
    if (out.has(n)) throw new Error(`${where}: two variables share the name '${n}'`);
    out.set(n, v);
  }
  return out;
}
