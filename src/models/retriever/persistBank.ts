/**
 * Save / load hooks for models that retrieve from their training pool: the embedding bank of
 * the pool (final encoders) and its modality combinations travel in the model directory
 * (`retrieval-bank.safetensors` + `retrieval-pool.json`). The file contents are encoded and
 * decoded in src/models/retriever/embeddingBank.ts; attaching them to a model is shared with the
 * browser build (src/models/modelFiles.ts).
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { FusionModel } from '../model.js';
import { MoERetrieverModel } from '../moeRetriever.js';
import { BANK_FILE, POOL_FILE } from './embeddingBank.js';
import { writeFileAtomic } from '../../io/atomicWrite.js';
import { attachRetrievalFiles, type BankFiles } from '../modelFiles.js';

/** Write the retrieval bank of `model` (if it retrieves) into the model directory `dir`. */
export function saveRetrievalState(dir: string, model: FusionModel): void {
  if (!(model instanceof MoERetrieverModel) || !model.usesPool) return;
  const bank = model.retrievalBank();
  if (!bank) return;
  const files = bank.encodeFiles();
  writeFileAtomic(join(dir, BANK_FILE), files.bank);
  writeFileAtomic(join(dir, POOL_FILE), files.pool);
}

/** The bank files of the model directory `dir`, or undefined when it has none. */
export function readRetrievalFiles(dir: string): BankFiles | undefined {
  const bankPath = join(dir, BANK_FILE);
  const poolPath = join(dir, POOL_FILE);
  if (!existsSync(bankPath) || !existsSync(poolPath)) return undefined;
  return { bank: readFileSync(bankPath), pool: readFileSync(poolPath, 'utf8') };
}

/** Attach the bank saved in `dir` to a freshly loaded `model` (weights already assigned). */
export function loadRetrievalState(dir: string, model: FusionModel): void {
  attachRetrievalFiles(model, readRetrievalFiles(dir), dir);
}
