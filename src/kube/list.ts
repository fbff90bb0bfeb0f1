import { kubeError } from './client.js';

/** One page of a Kubernetes list call, as @kubernetes/client-node returns it. */
export interface ListPage<Item> {
  readonly items: readonly Item[];
  readonly metadata?: { readonly _continue?: string | undefined } | undefined;
}

export type Lister<Item> = (request: { limit: number; _continue?: string }) => Promise<ListPage<Item>>;

/**
 * Follows `continue` tokens until the list is complete, 500 items a page (the API server's cost stays bounded on
 * large clusters). A failure is wrapped by kubeError with `what` was being listed.
 */
export async function listAll<Item>(list: Lister<Item>, what: string): Promise<Item[]> {
  const items: Item[] = [];
  let token: string | undefined;
  do {
    let page: ListPage<Item>;
    try {
      page = await list(token === undefined ? { limit: 500 } : { limit: 500, _continue: token });
    } catch (error) {
      throw kubeError(error, what);
    }
    items.push(...page.items);
    token = page.metadata?._continue || undefined;
  } while (token !== undefined);
  return items;
}
