import type { Viewer } from '../../auth/tokens.js';
import type { Context } from '../../context.js';

/** The viewer of a field guarded by `authScopes: { customer: true }`; a bug if absent. */
export function requireViewer(context: Context): Viewer {
  if (!context.viewer) throw new Error('requireViewer: field is missing its authScopes guard');
  return context.viewer;
}
