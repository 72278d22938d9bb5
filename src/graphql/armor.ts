import { EnvelopArmorPlugin } from '@escape.tech/graphql-armor';
import { GraphQLError } from 'graphql';
import type { Plugin } from 'graphql-yoga';

/** The limits a document must stay within before it is even estimated (see query-cost.ts for cost). */
export const ARMOR_LIMITS = { depth: 12, aliases: 15, tokens: 3000, directives: 20 } as const;

/**
 * graphql-armor's refusal as a client can act on it: HTTP 400 (nothing ran) with `extensions.code`,
 * and the limit in plain words rather than armor's "Syntax Error: …" (the document is not malformed).
 */
function refuseWith(code: string, advice: string) {
  return (_context: unknown, error: GraphQLError) => {
    throw new GraphQLError(`${error.message.replace(/^Syntax Error: /, '')} ${advice}`, {
      extensions: { code, http: { status: 400 } },
    });
  };
}

/**
 * The token limit refuses while parsing, and yoga marks parse errors as the spec's (status 200 under
 * legacy `application/json`). This refusal is not a malformed document: it stays 400 under either.
 */
const tokenRefusalStays400: Plugin = {
  onResultProcess({ result }) {
    const errors = Array.isArray(result) ? [] : ((result as { errors?: readonly GraphQLError[] }).errors ?? []);
    for (const error of errors) {
      const http = error.extensions?.http as { spec?: boolean } | undefined;
      if (error.extensions?.code === 'QUERY_TOO_LARGE' && http) http.spec = false;
    }
  },
};

/** graphql-armor's depth, alias, token and directive limits, each refused with its own code. */
export function useArmorLimits(options: { blockFieldSuggestion: boolean }): Plugin {
  const refusing = (code: string, advice: string) => ({ onReject: [refuseWith(code, advice)] });
  const armor = EnvelopArmorPlugin({
    maxDepth: {
      n: ARMOR_LIMITS.depth,
      ignoreIntrospection: true,
      ...refusing('QUERY_TOO_DEEP', 'Nest fewer fields.'),
    },
    maxAliases: { n: ARMOR_LIMITS.aliases, ...refusing('TOO_MANY_ALIASES', 'Use fewer aliases.') },
    maxTokens: { n: ARMOR_LIMITS.tokens, ...refusing('QUERY_TOO_LARGE', 'Send a shorter document.') },
    // Armor's cost sees only literal `first`; useQueryCostLimit (query-cost.ts) sees variables too.
    costLimit: { enabled: false },
    maxDirectives: { n: ARMOR_LIMITS.directives, ...refusing('TOO_MANY_DIRECTIVES', 'Use fewer directives.') },
    blockFieldSuggestion: { enabled: options.blockFieldSuggestion },
  }) as Plugin;
  return { onPluginInit: ({ addPlugin }) => [armor, tokenRefusalStays400].forEach(addPlugin) };
}
