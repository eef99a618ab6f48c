# ruff: noqa: E501, UP031  (JavaScript text: its lines are kept as written, filled with %)
"""Scripts run inside the captured page, in an isolated JavaScript world.

They share the page's document but none of its JavaScript: the page cannot replace
the functions we call or read what we keep (``window.__erS`` lives in our world
only). Each returns JSON text.
"""

from __future__ import annotations

import json

# Our world: the page's own scripts run in world 0 and cannot see this one.
WORLD = 1

_HELPERS = r"""
function erScrollable(e) {
  if (!e || e.nodeType !== 1) return false;
  const s = getComputedStyle(e);
  return /(auto|scroll|overlay)/.test(s.overflowY) && e.scrollHeight > e.clientHeight + 1
      && e.clientHeight > 40 && s.visibility !== 'hidden' && s.display !== 'none';
}
function erPath(e) {
  if (e.id && document.querySelectorAll('#' + CSS.escape(e.id)).length === 1) return '#' + CSS.escape(e.id);
  const parts = [];
  for (; e && e.nodeType === 1 && e !== document.documentElement; e = e.parentElement) {
    let i = 1; for (let s = e.previousElementSibling; s; s = s.previousElementSibling) if (s.tagName === e.tagName) i++;
    parts.unshift(e.tagName.toLowerCase() + ':nth-of-type(' + i + ')');
    if (e.id && document.querySelectorAll('#' + CSS.escape(e.id)).length === 1) { parts[0] = '#' + CSS.escape(e.id); break; }
  }
  return parts.join(' > ');
}
function erLargestPanel() {
  let best = null, area = 0; const all = document.body ? document.body.getElementsByTagName('*') : [];
  const n = Math.min(all.length, 20000);
  for (let i = 0; i < n; i++) { const e = all[i];
    if (!erScrollable(e)) continue;
    const r = e.getBoundingClientRect();
    const w = Math.max(0, Math.min(r.right, innerWidth) - Math.max(r.left, 0));
    const h = Math.max(0, Math.min(r.bottom, innerHeight) - Math.max(r.top, 0));
    if (w * h > area) { area = w * h; best = e; } }
  return best;
}
"""


def setup_scroller(mode: str, selector: str = "", x: int = 0, y: int = 0) -> str:
    """Choose what to capture whole: the page, a panel by selector or by point, or (the
    page not scrolling) its largest scrolling panel. Returns its geometry."""
    args = json.dumps({"mode": mode, "selector": selector, "x": x, "y": y})
    return _HELPERS + r"""
(() => { const a = %s;
  const root = document.scrollingElement || document.documentElement;
  let el = null, note = '';
  if (a.mode === 'selector') {
    try { el = document.querySelector(a.selector); } catch (e) { return JSON.stringify({error: 'bad-selector'}); }
    if (!el) return JSON.stringify({error: 'no-match'});
    if (!erScrollable(el)) { let p = el; while (p && !erScrollable(p)) p = p.parentElement; if (!p) return JSON.stringify({error: 'not-scrolling'}); el = p; }
  } else if (a.mode === 'point') {
    let p = document.elementFromPoint(a.x, a.y);
    while (p && p !== document.body && p !== document.documentElement && !erScrollable(p)) p = p.parentElement;
    if (p && p !== document.body && p !== document.documentElement) el = p; else note = 'no-panel-at-point';
  } else if (root.scrollHeight <= root.clientHeight + 1) {
    el = erLargestPanel(); if (el) note = 'auto-panel';
  }
  const st = {el: el, page: !el, hidden: [], startX: scrollX, startY: scrollY,
              startTop: el ? el.scrollTop : 0, sigs: new Map()};
  let clip;
  if (el) {
    el.scrollIntoView({block: 'nearest'});
    const r = el.getBoundingClientRect();
    const top = Math.max(0, r.top + el.clientTop), left = Math.max(0, r.left + el.clientLeft);
    const bottom = Math.min(innerHeight, r.top + el.clientTop + el.clientHeight);
    clip = {x: left, y: top, w: Math.min(el.clientWidth, innerWidth - left), h: bottom - top};
  } else {
    // The viewport less its scrollbars (a page wider than the window has one at the bottom).
    clip = {x: 0, y: 0, w: root.clientWidth || innerWidth, h: root.clientHeight || innerHeight};
  }
  st.clip = clip; window.__erS = st;%s
  return JSON.stringify({page: st.page, selector: el ? erPath(el) : '', note: note, clip: clip,
      scrollHeight: el ? el.scrollHeight : root.scrollHeight, dpr: devicePixelRatio,
      top: el ? el.scrollTop : scrollY,
      innerWidth: innerWidth, innerHeight: innerHeight});
})()""" % (args, _IMAGES_PENDING)


def scroll_to(y: int, hide_fixed: bool = False, frames: int = 2, mark: str = "") -> str:
    """Scroll what is captured whole to ``y`` (first hiding fixed and sticky elements, in
    the same task, so that no frame shows one without the other); :data:`PAINTED` then
    says once two frames have been drawn with every picture in view loaded (or given up
    on after a second and a half; the pictures then in view are noted for
    :data:`IMAGES_CHANGED`), and, with ``mark``, the page's console is told ``mark``
    followed by what PAINTED answers, at once (see ``GuardedPage.marked``).
    ``frames=1``: once one frame has been drawn (enough for what watches the view to see
    it), not waiting for pictures."""
    two = "true" if frames > 1 else "false"
    return r"""(() => { const s = window.__erS; const y = %d; const mark = %s;
  if (%s) { %s }
  if (s.page) window.scrollTo(0, y); else s.el.scrollTop = y;
  s.painted = false; s.changed = false; if (%s) s.pre = erInView(s); const gen = s.gen = (s.gen || 0) + 1; const until = performance.now() + 1500;
  const frames = () => requestAnimationFrame(() => %s(() => {
    if (s.gen !== gen) return;
    if (%s && performance.now() < until && erImagesPending(s)) setTimeout(frames, 20);
    else { if (%s) erSeen(s); s.painted = true; if (mark) console.debug(mark + erWhere(s)); } }));
  frames();
  return erWhere(s);
})()""" % (y, json.dumps(mark), "true" if hide_fixed else "false", _HIDE_FIXED_BODY, two,
           "requestAnimationFrame" if frames > 1 else "((f) => f())", two, two)


# Pictures in (or just below) what is captured that have not loaded yet. Set up once by
# setup_scroller; a picture that failed (a blocked address) counts as done.
_IMAGES_PENDING = r"""
window.erImagesPending = (s) => {
  const c = s.clip; const imgs = document.images; const n = Math.min(imgs.length, 5000);
  for (let i = 0; i < n; i++) { const im = imgs[i]; if (im.complete) continue;
    const r = im.getBoundingClientRect();
    if (r.bottom > c.y && r.top < c.y + c.h && r.right > c.x && r.left < c.x + c.w && r.width > 0 && r.height > 0) return true; }
  return false; };
// What a picture shows: noted for each picture in view when its screenful is grabbed,
// so that one that has loaded or changed since can be told (IMAGES_CHANGED); and
// whether any picture in view changed since the scroll (then the view's next frame is
// the one to grab: the frame it has may be older than the picture).
window.erWhere = (s) => { const root = document.scrollingElement || document.documentElement;
  return JSON.stringify({top: s.page ? scrollY : s.el.scrollTop, changed: s.changed,
                         height: s.page ? root.scrollHeight : s.el.scrollHeight}); };
window.erSig = (im) => (im.currentSrc || im.getAttribute('src') || '') + '|' + im.complete + '|' + im.naturalWidth + 'x' + im.naturalHeight;
window.erInView = (s) => {
  const c = s.clip; const imgs = document.images; const n = Math.min(imgs.length, 5000); const out = new Map();
  for (let i = 0; i < n; i++) { const im = imgs[i]; const r = im.getBoundingClientRect();
    if (r.bottom > c.y && r.top < c.y + c.h && r.right > c.x && r.left < c.x + c.w && r.width > 0 && r.height > 0) out.set(im, erSig(im)); }
  return out; };
window.erSeen = (s) => { let changed = false;
  for (const [im, sig] of erInView(s)) { if (s.pre.get(im) !== sig) changed = true; if (!s.sigs.has(im)) s.sigs.set(im, sig); }
  s.changed = changed; };
"""

# Answers where the page is now too, so that growth seen after the frames is not missed,
# and whether a picture in view changed since the scroll (``changed``).
PAINTED = r"""(() => { const s = window.__erS; if (!s || !s.painted) return '';
  return erWhere(s); })()"""

WHERE_NOW = r"""(() => { const s = window.__erS;
  const root = document.scrollingElement || document.documentElement;
  return JSON.stringify({top: s.page ? scrollY : s.el.scrollTop,
                         height: s.page ? root.scrollHeight : s.el.scrollHeight}); })()"""

# Whether a picture noted when its screenful was grabbed shows something else now.
IMAGES_CHANGED = r"""(() => { const s = window.__erS; if (!s || !s.sigs) return '';
  for (const [im, sig] of s.sigs) if (im.isConnected && erSig(im) !== sig) return 'changed';
  return ''; })()"""

IMAGES_SETTLED = r"""(() => { const imgs = Array.from(document.images).slice(0, 5000);
  return imgs.every(i => i.complete) ? 'yes' : ''; })()"""

# Hide fixed and sticky elements (within the panel, for a panel) so that they appear
# once, in the first frame, and not on every screenful.
_HIDE_FIXED_BODY = r"""
  const scope = s.page ? document.body : s.el; let n = 0;
  if (scope) { const all = scope.getElementsByTagName('*'); const lim = Math.min(all.length, 200000);
  for (let i = 0; i < lim; i++) { const e = all[i]; const p = getComputedStyle(e).position;
    if (p === 'fixed' || p === 'sticky') {
      s.hidden.push([e, e.style.getPropertyValue('visibility'), e.style.getPropertyPriority('visibility')]);
      e.style.setProperty('visibility', 'hidden', 'important'); n++; } } }"""

HIDE_FIXED = r"""(() => { const s = window.__erS; %s
  return String(n); })()""" % _HIDE_FIXED_BODY

# Show again what HIDE_FIXED hid (before a second pass, whose first screenful has them).
UNHIDE_FIXED = r"""(() => { const s = window.__erS;
  for (const [e, v, p] of s.hidden) { if (v) e.style.setProperty('visibility', v, p); else e.style.removeProperty('visibility'); }
  s.hidden = []; return 'ok'; })()"""

RESTORE = r"""(() => { const s = window.__erS; if (!s) return 'none';
  for (const [e, v, p] of s.hidden) { if (v) e.style.setProperty('visibility', v, p); else e.style.removeProperty('visibility'); }
  if (s.page) window.scrollTo(s.startX, s.startY); else s.el.scrollTop = s.startTop;
  window.__erS = null; return 'ok'; })()"""

VIEWPORT = r"""JSON.stringify({scrollY: scrollY, innerWidth: innerWidth, innerHeight: innerHeight,
  dpr: devicePixelRatio})"""

# Title, a sample of the visible text and who the page says wrote it.
META = r"""(() => {
  const m = (sel) => { const e = document.querySelector(sel); return e ? (e.getAttribute('content') || '').trim() : ''; };
  let author = m('meta[name="author"]') || m('meta[property="article:author"]') || m('meta[name="twitter:creator:name"]');
  let handle = m('meta[name="twitter:creator"]') || m('meta[property="twitter:creator"]');
  if (!author) { for (const s of Array.from(document.querySelectorAll('script[type="application/ld+json"]')).slice(0, 20)) {
    try { let d = JSON.parse(s.textContent); d = Array.isArray(d) ? d : (d['@graph'] || [d]);
      for (const x of d) { let a = x && x.author; if (Array.isArray(a)) a = a[0];
        if (a) { author = typeof a === 'string' ? a : (a.name || ''); if (author) break; } } } catch (e) {}
    if (author) break; } }
  if (/^https?:/.test(author)) author = '';
  let text = '';
  const big = document.getElementsByTagName('*').length > 50000;
  if (document.body && !big) text = document.body.innerText.slice(0, 4000);
  else if (document.body) { const w = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
    while (text.length < 4000 && w.nextNode()) { const t = w.currentNode.nodeValue.trim(); if (t) text += t + ' '; }
    text = text.slice(0, 4000); }
  return JSON.stringify({title: document.title, author: author.slice(0, 200), handle: handle.slice(0, 100),
                         text: text});
})()"""
