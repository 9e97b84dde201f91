/** The one message each hub fault gives. Every one names the cache folder, where files can also be placed by hand. */
import { EngineError } from '../../core/engineProtocol';

export interface HubContext {
  label: string;
  endpoint: string;
  dir: string;
  hasToken: boolean;
}

const byHand = (c: HubContext) =>
  ` Or place the model's files by hand in ${c.dir} (config.json, tokenizer.json, tokenizer_config.json and onnx/model.onnx, laid out as on the hub).`;

function hubError(c: HubContext, message: string): EngineError {
  return new EngineError('model-load', message + byHand(c), { cacheDir: c.dir, model: c.label });
}

export function unreachable(c: HubContext, cause: string, partial: boolean): EngineError {
  return hubError(
    c,
    `Could not reach ${c.endpoint} to download ${c.label} (${cause}). Connect to the network (or set HF_ENDPOINT / promptscope.hubEndpoint to a mirror) and try again` +
      (partial ? '; the download resumes where it stopped.' : '.'),
  );
}

export function refused(c: HubContext, status: number): EngineError {
  return hubError(
    c,
    c.hasToken
      ? `${c.endpoint} refused the access token in HF_TOKEN for ${c.label} (HTTP ${status}). Check that the token can read this model and that you accepted the model's terms on its hub page.`
      : `${c.endpoint} refused access to ${c.label} (HTTP ${status}): the model is gated or private, or the id is misspelled. For a gated model, accept its terms on the model's hub page and set the HF_TOKEN environment variable to a read token before starting VS Code or the CLI.`,
  );
}

export function notFound(c: HubContext, detail: string): EngineError {
  return hubError(c, `${c.label} was not found on ${c.endpoint} (HTTP 404${detail ? `: ${detail}` : ''}). Check the model id and the revision after @.`);
}

export function fileFailed(c: HubContext, file: string, status: number, detail: string): EngineError {
  return hubError(
    c,
    `${c.endpoint} lists ${file} in ${c.label} but answered HTTP ${status}${detail ? ` (${detail})` : ''} when it was downloaded. Try again later; the files already verified are kept.`,
  );
}

export function badStatus(c: HubContext, status: number, detail: string): EngineError {
  return hubError(c, `${c.endpoint} answered HTTP ${status}${detail ? ` (${detail})` : ''} when listing the files of ${c.label}. Try again later.`);
}

export function checksum(c: HubContext, file: string): EngineError {
  return hubError(
    c,
    `${file} of ${c.label} did not match the size and checksum ${c.endpoint} lists, twice in a row, so it was not kept. Try again later (a mirror may be serving a different file).`,
  );
}

export function cannotWrite(c: HubContext, code: string, detail: string): EngineError {
  const why = code === 'ENOSPC' || code === 'EDQUOT' ? 'the disk is full' : code === 'EACCES' || code === 'EPERM' || code === 'EROFS' ? 'it may not be written to' : 'it is not a folder that can be written to';
  return new EngineError(
    'model-load',
    `Promptscope could not store ${c.label} in ${c.dir}: ${why} (${detail.split('\n')[0]}). Free space or fix the folder's permissions, or set PROMPTSCOPE_CACHE_DIR to another folder.`,
    { cacheDir: c.dir, model: c.label },
  );
}
