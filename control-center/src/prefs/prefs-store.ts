import { randomUUID } from 'node:crypto';
import type { Db } from '../storage/database';
import type { Layout, Prefs, SavedView, SavedViewInput } from './prefs-schemas';

interface ViewRow {
  id: string;
  name: string;
  layout: Layout;
  cameras: string;
  updatedAt: number;
}

const VIEW_SELECT = 'SELECT id, name, layout, cameras, updated_at AS updatedAt FROM saved_views';
const toView = (r: ViewRow): SavedView => ({ id: r.id, name: r.name, layout: r.layout, cameras: JSON.parse(r.cameras) as (string | null)[], updatedAt: r.updatedAt });

/** Most saved views one account may keep. */
export const MAX_VIEWS_PER_USER = 50;

/** Owns the `user_prefs` and `saved_views` tables: what each account chose for its dashboard. */
export class PrefsStore {
  constructor(private readonly db: Db) {}

  prefs(userId: string): Prefs {
    const row = this.db.prepare('SELECT lang FROM user_prefs WHERE user_id = ?').get(userId) as { lang: Prefs['lang'] } | undefined;
    return { lang: row?.lang ?? null };
  }

  setPrefs(userId: string, prefs: Prefs, now = Date.now()): void {
    this.db
      .prepare('INSERT INTO user_prefs (user_id, lang, updated_at) VALUES (?, ?, ?) ON CONFLICT(user_id) DO UPDATE SET lang = excluded.lang, updated_at = excluded.updated_at')
      .run(userId, prefs.lang, now);
  }

  views(userId: string): SavedView[] {
    return (this.db.prepare(`${VIEW_SELECT} WHERE user_id = ? ORDER BY name COLLATE NOCASE`).all(userId) as ViewRow[]).map(toView);
  }

  /** Saves a view under its name (replacing the account's view of that name); undefined when the account has too many. */
  saveView(userId: string, input: SavedViewInput, now = Date.now()): SavedView | undefined {
    return this.db.transaction(() => {
      const existing = this.db.prepare('SELECT id FROM saved_views WHERE user_id = ? AND name = ?').get(userId, input.name) as { id: string } | undefined;
      if (!existing) {
        const count = (this.db.prepare('SELECT COUNT(*) AS n FROM saved_views WHERE user_id = ?').get(userId) as { n: number }).n;
        if (count >= MAX_VIEWS_PER_USER) return undefined;
      }
      const id = existing?.id ?? randomUUID();
      this.db
        .prepare(
          `INSERT INTO saved_views (id, user_id, name, layout, cameras, updated_at) VALUES (?, ?, ?, ?, ?, ?)
           ON CONFLICT(id) DO UPDATE SET layout = excluded.layout, cameras = excluded.cameras, updated_at = excluded.updated_at`,
        )
        .run(id, userId, input.name, input.layout, JSON.stringify(input.cameras), now);
      return toView(this.db.prepare(`${VIEW_SELECT} WHERE id = ?`).get(id) as ViewRow);
    })();
  }

  /** Deletes one of the account's views; false when it has no view of that id. */
  deleteView(userId: string, id: string): boolean {
    return this.db.prepare('DELETE FROM saved_views WHERE id = ? AND user_id = ?').run(id, userId).changes > 0;
  }
}
