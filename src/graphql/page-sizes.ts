/** How many items a connection returns when `first`/`last` is absent, and the most it returns whatever they say. */
export interface PageSize {
  defaultSize: number;
  maxSize: number;
}

/** Every connection's page unless it names its own: `resolveOffsetConnection`'s defaults, written down once. */
export const DEFAULT_PAGE: PageSize = { defaultSize: 20, maxSize: 100 };

/** A seat map's page: a 1,000-seat venue loads in one request. */
export const SEAT_MAP_PAGE: PageSize = { defaultSize: 100, maxSize: 1000 };

/**
 * The field extension that tells the query cost (query-cost.ts) a connection's page size, so the
 * cost and the resolver's clamp read the same numbers. Spread it into the `t.connection` options.
 */
export function pageSizeExtension(page: PageSize): { extensions: { pageSize: PageSize } } {
  return { extensions: { pageSize: page } };
}

/** The page size a connection field declared, or {@link DEFAULT_PAGE}. */
export function pageSizeOf(extensions: Readonly<Record<string, unknown>> | null | undefined): PageSize {
  return (extensions?.pageSize as PageSize | undefined) ?? DEFAULT_PAGE;
}
