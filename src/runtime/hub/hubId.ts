/** Hugging Face hub ids as users write them: `org/name`, optionally pinned with `@revision`. */

export interface HubId {
  /** `org/name` */
  repo: string;
  /** Branch, tag or commit; `main` when not given. */
  revision: string;
}

const REPO = /^[A-Za-z0-9][\w.-]*\/[A-Za-z0-9][\w.-]*$/;
const REVISION = /^[\w.-]+(\/[\w.-]+)*$/;

/** The hub id `text` names, or undefined when it is not written like one. */
export function parseHubId(text: string): HubId | undefined {
  const at = text.indexOf('@');
  const repo = at < 0 ? text : text.slice(0, at);
  const revision = at < 0 ? 'main' : text.slice(at + 1);
  if (!REPO.test(repo) || repo.includes('..') || !REVISION.test(revision) || revision.includes('..')) return undefined;
  return { repo, revision };
}

export function formatHubId(id: HubId): string {
  return id.revision === 'main' ? id.repo : `${id.repo}@${id.revision}`;
}
