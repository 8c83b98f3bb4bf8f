/**
 * Save / load hooks for models that retrieve from their training pool: the embedding bank of
 * the pool (final encoders) and its modality combinations travel in the model directory.
 */
import type { FusionModel } from '../model.js';
import { MoERetrieverModel } from '../moeRetriever.js';
import { EmbeddingBank } from './embeddingBank.js';

/** Write the retrieval bank of `model` (if it retrieves) into the model directory `dir`. */
export function saveRetrievalState(dir: string, model: FusionModel): void {
  if (!(model instanceof MoERetrieverModel) || !model.usesPool) return;
  model.retrievalBank()?.save(dir);
}

/** Attach the bank saved in `dir` to a freshly loaded `model` (weights already assigned). */
export function loadRetrievalState(dir: string, model: FusionModel): void {
  if (!(model instanceof MoERetrieverModel) || !model.usesPool) return;
  model.attachBank(EmbeddingBank.load(dir, model.modalityNames.length, model.cfg.d));
}
