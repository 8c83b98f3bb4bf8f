/**
 * Test helper: a minimal HTML tokenizer that checks the leaderboard page is well formed (every
 * non-void element closed in order) and returns its elements with attributes and text, so tests can
 * query tables and cells without a DOM library.
 */
export interface HtmlElement {
  tag: string;
  attrs: Record<string, string>;
  children: HtmlElement[];
  text: string;
  parent: HtmlElement | null;
}

const VOID = new Set(['meta', 'br', 'img', 'input', 'link', 'hr']);

/** Parse `html`; throws on a mismatched or unclosed tag. */
export function parseHtml(html: string): HtmlElement {
  const root: HtmlElement = { tag: '#root', attrs: {}, children: [], text: '', parent: null };
  let cur = root;
  const body = html.replace(/<!DOCTYPE[^>]*>/i, '').replace(/<script>[\s\S]*?<\/script>/g, (s) => s.replace(/</g, '\u0001'));
  const re = /<(\/?)([a-zA-Z][a-zA-Z0-9]*)((?:\s+[a-zA-Z-]+(?:="[^"]*")?)*)\s*(\/?)>|([^<]+)/g;
  let m: RegExpExecArray | null;
  let consumed = 0;
  while ((m = re.exec(body))) {
    if (m.index !== consumed) throw new Error(`unparsable HTML near: ${body.slice(consumed, consumed + 60)}`);
    consumed = re.lastIndex;
    if (m[5] !== undefined) {
      for (let e: HtmlElement | null = cur; e; e = e.parent) e.text += m[5];
      continue;
    }
    const [, close, tagRaw, attrText] = m;
    const tag = tagRaw!.toLowerCase();
    if (close) {
      if (cur.tag !== tag) throw new Error(`</${tag}> closes <${cur.tag}>`);
      cur = cur.parent!;
      continue;
    }
    const attrs: Record<string, string> = {};
    for (const a of attrText!.matchAll(/([a-zA-Z-]+)(?:="([^"]*)")?/g)) attrs[a[1]!] = a[2] ?? '';
    const el: HtmlElement = { tag, attrs, children: [], text: '', parent: cur };
    cur.children.push(el);
    if (!VOID.has(tag) && !m[4]) cur = el;
  }
  if (consumed !== body.length) throw new Error('trailing unparsable HTML');
  if (cur !== root) throw new Error(`<${cur.tag}> is never closed`);
  return root;
}

/** Every descendant element matching `pred`. */
export function findAll(el: HtmlElement, pred: (e: HtmlElement) => boolean): HtmlElement[] {
  const out: HtmlElement[] = [];
  for (const c of el.children) {
    if (pred(c)) out.push(c);
    out.push(...findAll(c, pred));
  }
  return out;
}

/** Decode the entities the page writer escapes. */
export function unescapeHtml(s: string): string {
  return s.replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&quot;/g, '"').replace(/&amp;/g, '&');
}
