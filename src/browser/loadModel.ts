/**
 * A model directory's files in a web page: fetched from URLs (a base URL that holds model.json,
 * weights.safetensors and, for pool-retrieving MoE-Retriever models, the retrieval bank), or
 * read from `File` objects (a file input or a drop). The contents go to the shared, file-system
 * free loader (src/models/modelFiles.ts), so the checks are those of `fleximodal predict`.
 */
import { FlexiModalError } from '../errors.js';
import { MODEL_FILES, modelFromFiles, parseModelMeta, type BankFiles, type LoadedModel } from '../models/modelFiles.js';

/** A `fetch`-like function (the page's `fetch` by default). */
export type FetchLike = (url: string) => Promise<{ ok: boolean; status: number; text(): Promise<string>; arrayBuffer(): Promise<ArrayBuffer> }>;

/** `base` + `file`, with `base` taken as a directory. */
function under(base: string, file: string): string {
  return base.endsWith('/') ? base + file : `${base}/${file}`;
}

async function fetchOk(fetchFn: FetchLike, url: string): Promise<{ text(): Promise<string>; arrayBuffer(): Promise<ArrayBuffer> } | null> {
  let res;
  try {
    res = await fetchFn(url);
  } catch (e) {
    throw new FlexiModalError(`cannot fetch (${(e as Error).message})`, { where: url, hint: 'serve the model files from the same site' });
  }
  if (res.status === 404) return null;
  if (!res.ok) throw new FlexiModalError(`fetch answered HTTP ${res.status}`, { where: url });
  return res;
}

/**
 * Load the model whose files are under `baseUrl` (e.g. './model/'). The retrieval bank is fetched
 * only for moe-retriever models; a missing one is an error only when the model needs it.
 */
export async function loadModelFromUrl(baseUrl: string, fetchFn: FetchLike = (u) => fetch(u)): Promise<LoadedModel> {
  const metaUrl = under(baseUrl, MODEL_FILES.meta);
  const metaRes = await fetchOk(fetchFn, metaUrl);
  if (!metaRes) throw new FlexiModalError('no model.json found (HTTP 404)', { where: metaUrl, hint: 'pass the URL of a directory written by `fleximodal export --format web` or `fleximodal train`' });
  const meta = await metaRes.text();
  const weightsUrl = under(baseUrl, MODEL_FILES.weights);
  const weightsRes = await fetchOk(fetchFn, weightsUrl);
  if (!weightsRes) throw new FlexiModalError('cannot read weights file (HTTP 404)', { where: weightsUrl, hint: 'copy weights.safetensors beside model.json' });
  const weights = new Uint8Array(await weightsRes.arrayBuffer());
  let bank: BankFiles | undefined;
  if (parseModelMeta(meta, metaUrl).model.type === 'moe-retriever') {
    const [b, p] = await Promise.all([fetchOk(fetchFn, under(baseUrl, MODEL_FILES.bank)), fetchOk(fetchFn, under(baseUrl, MODEL_FILES.pool))]);
    if (b && p) bank = { bank: new Uint8Array(await b.arrayBuffer()), pool: await p.text() };
  }
  return modelFromFiles({ meta, weights, bank }, baseUrl);
}

/** The subset of the DOM `File` used here (a `File` or `Blob` with a name). */
export interface NamedBlob {
  name: string;
  text(): Promise<string>;
  arrayBuffer(): Promise<ArrayBuffer>;
}

/**
 * Load a model from the files of its directory picked or dropped by a person (matched by file
 * name: model.json, weights.safetensors, retrieval-bank.safetensors, retrieval-pool.json; other
 * files are ignored). `where` names them in errors.
 */
export async function loadModelFromFiles(files: Iterable<NamedBlob> | ArrayLike<NamedBlob>, where = 'dropped files'): Promise<LoadedModel> {
  const byName = new Map<string, NamedBlob>();
  for (const f of Array.from(files as ArrayLike<NamedBlob>)) byName.set(f.name, f);
  const need = (name: string): NamedBlob => {
    const f = byName.get(name);
    if (!f) throw new FlexiModalError(`${name} is missing`, { where, hint: `pick the files of a model directory (${MODEL_FILES.meta}, ${MODEL_FILES.weights}, and the retrieval bank files if it has them)` });
    return f;
  };
  const meta = await need(MODEL_FILES.meta).text();
  const weights = new Uint8Array(await need(MODEL_FILES.weights).arrayBuffer());
  const b = byName.get(MODEL_FILES.bank);
  const p = byName.get(MODEL_FILES.pool);
  const bank = b && p ? { bank: new Uint8Array(await b.arrayBuffer()), pool: await p.text() } : undefined;
  return modelFromFiles({ meta, weights, bank }, where);
}
