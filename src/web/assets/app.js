// commander web: the page. One ES module, no dependencies.
//
// The form edits a STATE tree (src/web/API.md): an object per message keyed
// by the names of the fields that are set, raw strings exactly as typed; the
// server parses and checks every value on /api/build (debounced) and the
// page shows its answer (JSON, hex, errors by path) beside the form.

'use strict';

// ---------------------------------------------------------------- utilities

const $ = (id) => document.getElementById(id);
const isObj = (v) => v !== null && typeof v === 'object' && !Array.isArray(v);
const clone = (v) => (v === undefined ? undefined : JSON.parse(JSON.stringify(v)));
const sel = (attr, value) => `[${attr}="${CSS.escape(value)}"]`;

const INT_KINDS = new Set(['int32', 'int64', 'uint32', 'uint64', 'sint32', 'sint64',
  'fixed32', 'fixed64', 'sfixed32', 'sfixed64']);
const FLOAT_KINDS = new Set(['double', 'float']);
const JSON_WKTS = new Set(['struct', 'value', 'list', 'fieldmask', 'empty', 'json']);
const WKT_BY_NAME = {
  'google.protobuf.Timestamp': 'timestamp', 'google.protobuf.Duration': 'duration',
  'google.protobuf.Struct': 'struct', 'google.protobuf.Value': 'value',
  'google.protobuf.ListValue': 'list', 'google.protobuf.FieldMask': 'fieldmask',
  'google.protobuf.Empty': 'empty', 'google.protobuf.Any': 'any',
};
const WRAPPER_KIND = {
  DoubleValue: 'double', FloatValue: 'float', Int64Value: 'int64', UInt64Value: 'uint64',
  Int32Value: 'int32', UInt32Value: 'uint32', BoolValue: 'bool', StringValue: 'string',
  BytesValue: 'bytes',
};
const JSON_PLACEHOLDER = {
  struct: '{"key": 1}', value: 'any JSON value', list: '[1, "a"]',
  fieldmask: '"a.b,c"', empty: '{}', json: 'JSON',
};

/** An element: h('input', {class, text, on: {input: fn}, 'data-x': 1, value}, ...children). */
function h(tag, props, ...kids) {
  const el = document.createElement(tag);
  if (props) {
    for (const k in props) {
      const v = props[k];
      if (v === undefined || v === null || (v === false && k !== 'spellcheck')) continue;
      if (k === 'class') el.className = v;
      else if (k === 'text') el.textContent = v;
      else if (k === 'on') for (const ev in v) el.addEventListener(ev, v[ev]);
      else if (k === 'spellcheck') el.setAttribute('spellcheck', String(v));
      else if (k.startsWith('data-') || k.startsWith('aria-') || k === 'role'
        || k === 'inputmode' || k === 'for' || k === 'autocomplete') {
        el.setAttribute(k, v === true ? '' : String(v));
      } else el[k] = v;
    }
  }
  for (const c of kids) if (c !== null && c !== undefined && c !== false) el.append(c);
  return el;
}

/** Appends the children that are not null (Element.append would write "null"). */
function put(el, ...kids) {
  for (const c of kids) if (c !== null && c !== undefined && c !== false) el.append(c);
  return el;
}

function joinPath(prefix, name) { return prefix ? `${prefix}.${name}` : name; }

/** `a.b[2].c` → `a.b[2]` → `a.b` → `a` → ``. */
function parentPath(p) {
  const m = /^(.*)(\[\d+\]|\.[^.[\]]+)$/.exec(p);
  return m ? m[1] : '';
}

/** A dotted path of plain field names in a state. */
function getAt(o, path) {
  for (const k of path.split('.')) {
    if (!isObj(o)) return undefined;
    o = o[k];
  }
  return o;
}

function setAt(o, path, v) {
  const ks = path.split('.');
  for (const k of ks.slice(0, -1)) {
    if (!isObj(o[k])) o[k] = {};
    o = o[k];
  }
  o[ks[ks.length - 1]] = v;
}

function shortName(t) { return t ? t.slice(t.lastIndexOf('.') + 1) : ''; }

function b64urlEncode(text) {
  const bytes = new TextEncoder().encode(text);
  let bin = '';
  for (let i = 0; i < bytes.length; i += 0x8000) {
    bin += String.fromCharCode.apply(null, bytes.subarray(i, i + 0x8000));
  }
  return btoa(bin).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

function b64urlDecode(s) {
  s = s.replace(/-/g, '+').replace(/_/g, '/');
  while (s.length % 4) s += '=';
  const bin = atob(s);
  const bytes = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) bytes[i] = bin.charCodeAt(i);
  return new TextDecoder().decode(bytes);
}

// Bytes written three ways (the hex / text / base64 switch).
function bytesFrom(text, mode) {
  if (mode === 'text') return new TextEncoder().encode(text);
  if (mode === 'base64') {
    const bin = atob(text.replace(/\s+/g, ''));
    return Uint8Array.from(bin, (c) => c.charCodeAt(0));
  }
  const hex = text.replace(/\s+/g, '').replace(/^0x/i, '');
  if (hex.length % 2 || /[^0-9a-f]/i.test(hex)) throw new Error('not hex');
  const out = new Uint8Array(hex.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(hex.substr(i * 2, 2), 16);
  return out;
}

function bytesTo(bytes, mode) {
  if (mode === 'text') return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  if (mode === 'base64') {
    let bin = '';
    for (const b of bytes) bin += String.fromCharCode(b);
    return btoa(bin);
  }
  return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
}

function convertBytes(text, from, to) {
  if (text === '' || from === to) return text;
  try { return bytesTo(bytesFrom(text, from), to); } catch { return text; }
}

/** Re-indents JSON text without parsing its numbers (64-bit values stay exact). */
function prettyJson(s) {
  if (!s) return '';
  let out = '';
  let ind = 0;
  let inStr = false;
  let escaped = false;
  const nl = () => '\n' + '  '.repeat(ind);
  for (let i = 0; i < s.length; i++) {
    const c = s[i];
    if (inStr) {
      out += c;
      if (escaped) escaped = false;
      else if (c === '\\') escaped = true;
      else if (c === '"') inStr = false;
      continue;
    }
    switch (c) {
      case '"': inStr = true; out += c; break;
      case '{': case '[': {
        const close = c === '{' ? '}' : ']';
        let j = i + 1;
        while (j < s.length && /\s/.test(s[j])) j++;
        if (s[j] === close) { out += c + close; i = j; break; }
        ind++;
        out += c + nl();
        break;
      }
      case '}': case ']': ind = Math.max(0, ind - 1); out += nl() + c; break;
      case ',': out += ',' + nl(); break;
      case ':': out += ': '; break;
      case ' ': case '\n': case '\r': case '\t': break;
      default: out += c;
    }
  }
  return out;
}

/** A local datetime-local value as RFC 3339 in UTC. */
function localToRfc3339(v) {
  const d = new Date(v);
  if (Number.isNaN(d.getTime())) return null;
  return d.toISOString().replace('.000Z', 'Z');
}

function fmtMs(ms) { return ms >= 1000 && ms % 1000 === 0 ? `${ms / 1000} s` : ms >= 1000 ? `${(ms / 1000).toFixed(1)} s` : `${ms} ms`; }

// ---------------------------------------------------------------- token and API

const TOKEN_KEY = 'commander-token';
const HISTORY_KEY = 'commander-history';
const HISTORY_MAX = 200;

let token = null;
(function takeToken() {
  try {
    const url = new URL(location.href);
    const t = url.searchParams.get('token');
    if (t !== null) {
      sessionStorage.setItem(TOKEN_KEY, t);
      url.searchParams.delete('token');
      history.replaceState(null, '', url.pathname + url.search + url.hash);
    }
    token = sessionStorage.getItem(TOKEN_KEY);
  } catch { /* storage refused: no token */ }
})();

class ApiError extends Error {
  constructor(message, status) { super(message); this.status = status; }
}

function showAuth() { $('auth-banner').hidden = false; }

function showProblem(text) {
  $('problem-text').textContent = text;
  $('problem-banner').hidden = false;
}

/** GET (body undefined) or POST JSON; 401 shows the token banner. */
async function api(path, body) {
  const opt = { headers: {} };
  if (token) opt.headers.Authorization = `Bearer ${token}`;
  if (body !== undefined) {
    opt.method = 'POST';
    opt.headers['Content-Type'] = 'application/json';
    opt.body = JSON.stringify(body);
  }
  let r;
  try {
    r = await fetch(path, opt);
  } catch (e) {
    showProblem(`cannot reach commander web (${e.message}): is it still running?`);
    throw new ApiError(e.message, 0);
  }
  const text = await r.text();
  let data = null;
  try { data = JSON.parse(text); } catch { /* not JSON */ }
  if (r.status === 401) {
    showAuth();
    throw new ApiError((data && data.error) || 'token needed', 401);
  }
  if (!r.ok) {
    const why = (data && data.error) || text.slice(0, 300) || r.statusText;
    showProblem(`${path.split('?')[0]}: ${r.status} ${why}`);
    throw new ApiError(why, r.status);
  }
  if (data === null) throw new ApiError(`${path}: not JSON`, r.status);
  return data;
}

// ---------------------------------------------------------------- the form

let uidN = 0;
const uid = () => `f${++uidN}`;

/**
 * The message form, generated from /api/model. Nested messages are
 * `<details>` built when first opened (or set), so a large schema renders at
 * once. Every value control has `data-path` (the API's error path) and an
 * element `data-error-for` beside it.
 */
class Form {
  constructor(o) {
    Object.assign(this, o); // rootEl destEl linkEl fieldsEl reg types loadModel onChange onLinkChange
    this.errors = [];
    this.errShown = [];
    this.invalid = [];
    this.openSet = new WeakSet(); // message states whose <details> the user opened
    this.cfg = null;
    this.rootMs = { get: () => this.cfg.state, ensure: () => this.cfg.state };
    this.skip = new Set();
  }

  msg(t) { return this.reg.messages[t]; }

  wkt(t) {
    const m = this.reg.messages[t];
    if (m && m.wkt !== undefined) return m.wkt;
    if (WKT_BY_NAME[t]) return WKT_BY_NAME[t];
    if (t && t.startsWith('google.protobuf.')) {
      return WRAPPER_KIND[shortName(t)] ? 'wrapper' : 'json';
    }
    return null;
  }

  wrapperKind(t) {
    const m = this.reg.messages[t];
    const f = m && m.fields && m.fields[0];
    return (f && f.kind) || WRAPPER_KIND[shortName(t)] || 'string';
  }

  enumValues(t) { return (this.reg.enums[t] && this.reg.enums[t].values) || []; }

  field(msg, name) { return msg && msg.fields.find((f) => f.name === name); }

  oneofMembers(msg, name) {
    const o = msg && msg.oneofs.find((x) => x.name === name);
    return o ? o.fields : [];
  }

  changed() { this.onChange(); }

  // ---- slots: where a value lives in the state
  // value slot {get, set, del}; message slot {get, ensure}

  /** Sets a field of a message state; a oneof member removes its siblings. */
  setKey(obj, msg, name, v) {
    const f = this.field(msg, name);
    if (f && f.oneof) {
      for (const m of this.oneofMembers(msg, f.oneof)) if (m !== name) delete obj[m];
    }
    obj[name] = v;
  }

  keySlot(ms, msg, name) {
    return {
      get: () => { const o = ms.get(); return o ? o[name] : undefined; },
      set: (v) => this.setKey(ms.ensure(), msg, name, v),
      del: () => { const o = ms.get(); if (o) delete o[name]; },
    };
  }

  objSlot(vs, onCreate) {
    return {
      get: () => { const v = vs.get(); return isObj(v) ? v : undefined; },
      ensure: () => {
        let v = vs.get();
        if (!isObj(v)) {
          v = {};
          vs.set(v);
          if (onCreate) onCreate();
        }
        return v;
      },
    };
  }

  // ---- whole form

  /** cfg: {type, state, start, defaults, link, linkOn, topicFields} */
  render(cfg) {
    this.cfg = cfg;
    const skip = new Set();
    const dest = document.createDocumentFragment();
    for (const tf of cfg.topicFields || []) {
      // A topic field inside a message (header.vin) that creates it: the
      // form below shows that message set.
      const r = this.resolve(cfg.type, tf, () => this.renderFields());
      if (!r) continue;
      const f = r.field;
      if (f.cardinality === 'repeated' || f.cardinality === 'map') continue;
      if (f.kind === 'message' && (!this.wkt(f.type) || this.wkt(f.type) === 'any')) continue;
      skip.add(tf);
      dest.append(this.fieldEl(f, r.msg, r.ms, tf));
    }
    this.destEl.replaceChildren(dest);
    this.skip = skip;
    if (cfg.link && cfg.linkOn) skip.add(cfg.link.selector);
    this.renderLinkBox();
    this.renderFields();
  }

  renderFields() {
    const cfg = this.cfg;
    this.linkView = null;
    if (cfg.link && cfg.linkOn) {
      const v = this.selectedLinkValue();
      this.linkView = {
        owner: cfg.link.oneof_owner || '',
        oneof: cfg.link.oneof,
        member: v ? cfg.link.members[String(v.number)] || null : null,
      };
    }
    const frag = document.createDocumentFragment();
    this.fields(frag, cfg.type, this.rootMs, '');
    this.fieldsEl.replaceChildren(frag);
    this.reapply();
  }

  /** The field at a dotted path, with the slot of the message holding it. */
  resolve(type, path, onCreate) {
    let msg = this.msg(type);
    let ms = this.rootMs;
    const segs = path.split('.');
    for (let i = 0; i < segs.length; i++) {
      const f = this.field(msg, segs[i]);
      if (!f) return null;
      if (i === segs.length - 1) return { field: f, msg, ms };
      if (f.kind !== 'message' || f.cardinality === 'repeated' || f.cardinality === 'map') return null;
      ms = this.objSlot(this.keySlot(ms, msg, f.name), onCreate);
      msg = this.msg(f.type);
    }
    return null;
  }

  // ---- the envelope link (selector enum → oneof member)

  selectedLinkValue() {
    const link = this.cfg.link;
    const v = getAt(this.cfg.state, link.selector);
    if (typeof v !== 'string') return null;
    return this.enumValues(link.enum).find((e) => e.name === v || String(e.number) === v.trim()) || null;
  }

  ownerType() {
    const link = this.cfg.link;
    if (!link.oneof_owner) return this.cfg.type;
    const r = this.resolve(this.cfg.type, link.oneof_owner);
    return r ? r.field.type : null;
  }

  /** True when the state agrees with the link (else the page shows every field). */
  linkConsistent() {
    const link = this.cfg.link;
    if (!link) return true;
    const owner = link.oneof_owner ? getAt(this.cfg.state, link.oneof_owner) : this.cfg.state;
    const members = this.oneofMembers(this.msg(this.ownerType()), link.oneof);
    const present = isObj(owner) ? members.filter((m) => m in owner) : [];
    const v = this.selectedLinkValue();
    if (getAt(this.cfg.state, link.selector) !== undefined && !v) return false;
    if (!present.length) return true;
    if (!v) return false;
    return present.length === 1 && present[0] === link.members[String(v.number)];
  }

  renderLinkBox() {
    const { link, linkOn } = this.cfg;
    const box = this.linkEl;
    if (!link) { box.replaceChildren(); box.hidden = true; return; }
    box.hidden = false;
    if (!linkOn) {
      box.replaceChildren(h('div', { class: 'link-off' },
        h('span', { class: 'muted', text: 'link off: every field is shown, the oneof as a choice. ' }),
        h('button', {
          type: 'button', id: 'link-on', class: 'small',
          text: `use the link (${link.selector} selects ${link.oneof})`,
          on: { click: () => this.setLinkOn(true) },
        })));
      return;
    }
    const cur = this.selectedLinkValue();
    const filter = h('input', {
      id: 'selector-filter', type: 'search', class: 'mono', placeholder: 'type to filter',
      autocomplete: 'off', spellcheck: false, 'aria-controls': 'selector',
      'aria-label': `filter the values of ${link.selector}`,
    });
    const list = h('select', {
      id: 'selector', size: 8, 'data-path': link.selector,
      'aria-label': `${link.selector}: picks the member of ${link.oneof}`,
    });
    for (const v of this.enumValues(link.enum)) {
      const m = link.members[String(v.number)];
      const o = new Option(`${v.name} (${v.number})${m ? ` → ${m}` : ''}`, v.name);
      if (cur && cur.name === v.name) o.selected = true;
      if (v.comment) o.title = v.comment;
      list.append(o);
    }
    list.append(new Option('(no link: fill the fields one by one)', ''));
    // Every word typed must be in the option ("engine start" finds ENGINE_START).
    const onFilter = () => {
      const words = filter.value.toLowerCase().split(/[\s_]+/).filter(Boolean);
      for (const o of list.options) {
        const t = o.text.toLowerCase();
        o.hidden = o.value !== '' && !words.every((w) => t.includes(w));
      }
    };
    filter.addEventListener('input', onFilter);
    filter.addEventListener('change', onFilter);
    filter.addEventListener('keydown', (e) => {
      if (e.key === 'ArrowDown') { e.preventDefault(); list.focus(); }
      if (e.key === 'Enter') {
        e.preventDefault();
        const first = [...list.options].find((o) => !o.hidden && o.value !== '');
        if (first) { list.value = first.value; this.chooseLink(first.value); }
      }
    });
    list.addEventListener('change', () => this.chooseLink(list.value));
    box.replaceChildren(
      h('div', { class: 'link-head' },
        h('label', { for: 'selector-filter' },
          h('span', { class: 'fname', text: link.selector }), ' ',
          h('span', { class: 'ftype', text: shortName(link.enum) })),
        h('span', { class: 'help', text: link.describe })),
      filter, list,
      h('div', { class: 'err', 'data-error-for': link.selector, hidden: true }));
  }

  /**
   * Before the link is turned on: a single member set picks the selector's
   * value; else the selector's value picks the member (the others go).
   */
  alignToLink() {
    const link = this.cfg.link;
    const owner = link.oneof_owner ? getAt(this.cfg.state, link.oneof_owner) : this.cfg.state;
    const members = this.oneofMembers(this.msg(this.ownerType()), link.oneof);
    const present = isObj(owner) ? members.filter((m) => m in owner) : [];
    if (present.length === 1) {
      const num = Object.keys(link.members).find((n) => link.members[n] === present[0]);
      const v = num !== undefined && this.enumValues(link.enum).find((e) => String(e.number) === num);
      if (v) { setAt(this.cfg.state, link.selector, v.name); return; }
    }
    const cur = this.selectedLinkValue();
    if (cur) this.applyLink(cur.name);
  }

  chooseLink(name) {
    if (name === '') { this.setLinkOn(false); return; }
    this.applyLink(name);
    this.renderFields();
    this.changed();
  }

  /** Sets the selector and keeps only its member in the oneof's owner. */
  applyLink(name) {
    const link = this.cfg.link;
    const st = this.cfg.state;
    setAt(st, link.selector, name);
    const v = this.selectedLinkValue();
    const member = v ? link.members[String(v.number)] : null;
    const ownerMsg = this.msg(this.ownerType());
    let owner = st;
    if (link.oneof_owner) {
      owner = getAt(st, link.oneof_owner);
      if (!isObj(owner)) {
        if (!member) owner = null;
        else { owner = {}; setAt(st, link.oneof_owner, owner); }
      }
    }
    if (owner) {
      for (const m of this.oneofMembers(ownerMsg, link.oneof)) if (m !== member) delete owner[m];
      if (member && !(member in owner)) {
        const f = this.field(ownerMsg, member);
        if (f && f.kind === 'message' && !this.wkt(f.type)) owner[member] = {};
      }
    }
  }

  setLinkOn(on) {
    if (on) this.alignToLink();
    this.cfg.linkOn = on;
    if (this.onLinkChange) this.onLinkChange(on);
    this.render(this.cfg);
    if (on) { const f = $('selector-filter'); if (f) f.focus(); } else { const b = $('link-on'); if (b) b.focus(); }
    this.changed();
  }

  // ---- fields of a message

  fields(container, type, ms, prefix) {
    const msg = this.msg(type);
    if (!msg) {
      container.append(h('div', { class: 'muted', text: `(no model for ${type})` }));
      return;
    }
    if (!msg.fields.length) {
      container.append(h('div', { class: 'muted empty-msg', text: '(no fields)' }));
      return;
    }
    const seen = new Set();
    for (const f of msg.fields) {
      const path = joinPath(prefix, f.name);
      if (f.oneof) {
        if (seen.has(f.oneof)) continue;
        seen.add(f.oneof);
        const lv = this.linkView;
        if (lv && lv.owner === prefix && lv.oneof === f.oneof) {
          if (lv.member) {
            const mf = this.field(msg, lv.member);
            if (mf) container.append(this.fieldEl(mf, msg, ms, joinPath(prefix, mf.name), { linked: true }));
          }
          // A member the selector does not pick but the state has: shown, never hidden.
          const o = ms.get();
          for (const m of this.oneofMembers(msg, f.oneof)) {
            if (m === lv.member || !o || !(m in o)) continue;
            const mf = this.field(msg, m);
            container.append(h('div', { class: 'err', text: `${joinPath(prefix, m)} is set but ${this.cfg.link.selector} does not pick it` }));
            container.append(this.fieldEl(mf, msg, ms, joinPath(prefix, m)));
          }
          continue;
        }
        container.append(this.oneofEl(msg, f.oneof, ms, prefix));
        continue;
      }
      if (this.skip.has(path)) continue;
      container.append(this.fieldEl(f, msg, ms, path));
    }
  }

  fieldEl(f, msg, ms, path, opts = {}) {
    const vs = this.keySlot(ms, msg, f.name);
    if (f.cardinality === 'map') return this.mapEl(f, vs, path);
    if (f.cardinality === 'repeated') return this.listEl(f, vs, path);
    if (f.kind === 'message') {
      const w = this.wkt(f.type);
      if (w === 'any') return this.anyNode(vs, path, f, { settable: !opts.linked });
      if (!w) return this.msgNode(vs, f.type, path, f, { settable: !opts.linked, linked: opts.linked });
    }
    return this.scalarRow(f, vs, path);
  }

  errEl(path) { return h('div', { class: 'err', 'data-error-for': path, hidden: true }); }

  helpEl(f) {
    return f && f.comment ? h('div', { class: 'help', text: f.comment }) : null;
  }

  labelEl(f, id, path) {
    const lab = h('label', { for: id, title: f.comment ? `${path}: ${f.comment}` : path },
      h('span', { class: 'fname', text: f.name }), ' ',
      h('span', { class: 'ftype', text: f.label }));
    if (f.cardinality === 'required') {
      lab.append(h('abbr', { class: 'req', title: 'required (proto2)', text: '*' }));
    }
    return lab;
  }

  defaultTag(path) {
    const d = this.cfg.defaults && this.cfg.defaults[path];
    if (!d) return null;
    const follows = d.follows && d.follows.length
      ? `; follows ${d.follows.join(', ')} until you change it` : '';
    return h('span', {
      class: 'deftag', text: `default: ${d.template}`,
      title: `the profile's default${follows}`,
    });
  }

  specOf(kind, type, f) {
    const s = {
      kind, type, wkt: null, min: f ? f.min : null, max: f ? f.max : null,
      hint: (f && f.hint) || '', optional: !!f && f.cardinality === 'optional',
      def: f ? f.proto_default : null,
    };
    if (kind === 'message') {
      s.wkt = this.wkt(type);
      if (s.wkt === 'wrapper') s.kind = this.wrapperKind(type);
    }
    s.emptyIsValue = s.kind === 'string' || s.kind === 'bytes';
    return s;
  }

  placeholder(sp) {
    const parts = [];
    if (sp.optional || sp.wkt === 'wrapper') parts.push('unset');
    if (sp.min != null && sp.max != null) parts.push(`${sp.min}..${sp.max}`);
    else if (sp.wkt === 'timestamp') parts.push(sp.hint || 'RFC 3339 or now');
    else if (sp.wkt === 'duration') parts.push(sp.hint || 'like 1.5s');
    else if (sp.hint && sp.kind !== 'bool') parts.push(sp.hint);
    else if (FLOAT_KINDS.has(sp.kind)) parts.push(`${sp.kind}: 1.5, 1e3, nan, inf`);
    else if (INT_KINDS.has(sp.kind)) parts.push(sp.kind);
    if (sp.def != null) parts.push(`default ${sp.def}`);
    return parts.join(' · ');
  }

  /**
   * A value control. emit(v) with v a string, or undefined for unset.
   * Returns {el, focus, set(v)}.
   */
  control(sp, value, emit, path, id, o = {}) {
    const base = { id, 'data-path': path, 'aria-label': o.ariaLabel };
    const out = {};
    const kind = sp.kind;
    const w = sp.wkt === 'wrapper' ? null : sp.wkt;

    if (kind === 'bool' || kind === 'enum') {
      const s = h('select', base);
      if (o.allowUnset) s.append(new Option('(unset)', ''));
      if (kind === 'bool') s.append(new Option('true', 'true'), new Option('false', 'false'));
      else {
        for (const v of this.enumValues(sp.type)) {
          const op = new Option(`${v.name} (${v.number})`, v.name);
          if (v.comment) op.title = v.comment;
          s.append(op);
        }
      }
      out.set = (v) => {
        let want = v === undefined ? '' : v;
        if (kind === 'enum' && v !== undefined) {
          const e = this.enumValues(sp.type).find((x) => x.name === v || String(x.number) === v.trim());
          if (e) want = e.name;
        }
        if (![...s.options].some((op) => op.value === want) && want !== '') {
          s.append(new Option(`${want} (not a value of ${shortName(sp.type) || kind})`, want));
        }
        s.value = want;
      };
      s.addEventListener('change', () => emit(s.value === '' && o.allowUnset ? undefined : s.value));
      out.set(value);
      out.el = s;
      out.focus = s;
      return out;
    }

    if (JSON_WKTS.has(w)) {
      const ta = h('textarea', {
        ...base, rows: 2, class: 'mono', spellcheck: false, placeholder: JSON_PLACEHOLDER[w] || 'JSON',
        title: `${sp.type} as JSON`,
      });
      out.set = (v) => { ta.value = v === undefined ? '' : v; };
      const fireTa = () => emit(ta.value === '' && o.allowUnset ? undefined : ta.value);
      ta.addEventListener('input', fireTa);
      ta.addEventListener('change', fireTa);
      out.set(value);
      out.el = ta;
      out.focus = ta;
      return out;
    }

    if (kind === 'bytes') {
      const PREFIX = { hex: '', text: 'utf8:', base64: 'base64:' };
      const split = (v) => {
        if (v === undefined) return [null, ''];
        if (v.startsWith('utf8:')) return ['text', v.slice(5)];
        if (v.startsWith('base64:')) return ['base64', v.slice(7)];
        return ['hex', v];
      };
      const inp = h('input', {
        ...base, type: 'text', class: 'mono', spellcheck: false, autocomplete: 'off',
        placeholder: (sp.optional || sp.wkt === 'wrapper' ? 'unset · ' : '') + 'bytes',
      });
      const mode = h('select', {
        class: 'bytes-mode', 'aria-label': `${path}: bytes written as`, title: 'how the bytes are written',
      }, new Option('hex', 'hex'), new Option('text', 'text'), new Option('base64', 'base64'));
      let m = 'hex';
      let cur = value;
      const phFor = () => { inp.placeholder = (sp.optional || sp.wkt === 'wrapper' ? 'unset · ' : '') + ({ hex: 'hex: 0a0b…', text: 'UTF-8 text', base64: 'base64: AAEC…' })[m]; };
      out.set = (v) => {
        cur = v;
        const [mm, t] = split(v);
        if (mm) { m = mm; mode.value = mm; }
        inp.value = t;
        phFor();
      };
      const fireBytes = () => {
        cur = inp.value === '' && !sp.emptyIsValue && o.allowUnset ? undefined : PREFIX[m] + inp.value;
        emit(cur);
      };
      inp.addEventListener('input', fireBytes);
      inp.addEventListener('change', fireBytes);
      mode.addEventListener('change', () => {
        const nm = mode.value;
        inp.value = convertBytes(inp.value, m, nm);
        m = nm;
        phFor();
        if (cur !== undefined) { cur = PREFIX[m] + inp.value; emit(cur); }
      });
      out.set(value);
      out.el = h('span', { class: 'bytes-ctl' }, mode, inp);
      out.focus = inp;
      return out;
    }

    // text: numbers, strings, Timestamp, Duration, wrappers of those
    const inp = h('input', {
      ...base, type: 'text', class: 'mono', spellcheck: false, autocomplete: 'off',
      inputmode: INT_KINDS.has(kind) ? 'numeric' : FLOAT_KINDS.has(kind) ? 'decimal' : undefined,
      placeholder: this.placeholder(sp),
    });
    const tip = [];
    if (sp.min != null) tip.push(`${kind} ${sp.min}..${sp.max}`);
    if (FLOAT_KINDS.has(kind)) tip.push(`${kind}: 1.5, -2, 1e3, nan, inf`);
    if (sp.hint) tip.push(sp.hint);
    if (tip.length) inp.title = tip.join(' · ');
    const fire = () => {
      const v = inp.value;
      emit(v === '' && o.allowUnset && !sp.emptyIsValue ? undefined : v);
    };
    inp.addEventListener('input', fire);
    inp.addEventListener('change', fire);
    out.set = (v) => { inp.value = v === undefined ? '' : v; };
    out.set(value);
    out.focus = inp;
    if (w === 'timestamp') {
      const dt = h('input', {
        type: 'datetime-local', step: 1, class: 'dt-helper', tabIndex: -1, 'aria-hidden': 'true',
      });
      dt.addEventListener('change', () => {
        const s = localToRfc3339(dt.value);
        if (s) { inp.value = s; fire(); inp.focus(); }
      });
      const now = h('button', {
        type: 'button', class: 'small', text: 'now', title: 'the time when the message is built',
        'aria-label': `${path}: now`,
        on: { click: () => { inp.value = 'now'; fire(); } },
      });
      const pick = h('button', {
        type: 'button', class: 'small', text: 'pick…', title: 'pick a local date and time',
        'aria-label': `${path}: pick a date and time`,
        on: {
          click: () => {
            try { dt.showPicker(); } catch { dt.classList.add('shown'); dt.tabIndex = 0; dt.focus(); }
          },
        },
      });
      out.el = h('span', { class: 'ts-ctl' }, inp, now, pick, dt);
      return out;
    }
    out.el = inp;
    return out;
  }

  scalarRow(f, vs, path) {
    const id = uid();
    const sp = this.specOf(f.kind, f.type, f);
    const row = h('div', { class: 'field scalar' });
    const dtag = this.defaultTag(path);
    const startVal = dtag ? getAt(this.cfg.start || {}, path) : undefined;
    let x = null;
    let ph = null;
    const mark = () => {
      const v = vs.get();
      const set = v !== undefined;
      row.classList.toggle('is-set', set);
      if (x) x.hidden = !set;
      if (dtag) dtag.classList.toggle('changed', v !== startVal);
      // A set empty string says so (an untouched input is unset).
      const inp = ctl && ctl.focus;
      if (inp && sp.kind !== 'bytes' && (inp.tagName === 'INPUT' || inp.tagName === 'TEXTAREA')) {
        if (ph === null) ph = inp.placeholder;
        inp.placeholder = set && v === '' ? '(set: empty)' : ph;
      }
    };
    let ctl = null;
    ctl = this.control(sp, vs.get(), (v) => {
      if (v === undefined) vs.del(); else vs.set(v);
      mark();
      this.changed();
    }, path, id, { allowUnset: true });
    x = h('button', {
      type: 'button', class: 'unset', text: '✕', title: `unset ${path}`, 'aria-label': `unset ${path}`,
      on: {
        click: () => {
          vs.del();
          ctl.set(undefined);
          mark();
          this.changed();
          ctl.focus.focus();
        },
      },
    });
    const help = this.helpEl(f);
    if (help) {
      help.id = `${id}-help`;
      ctl.focus.setAttribute('aria-describedby', help.id);
    }
    put(row, this.labelEl(f, id, path), h('div', { class: 'ctl' }, ctl.el, x, dtag), help, this.errEl(path));
    mark();
    return row;
  }

  /** A nested message: <details> whose fields are built when first opened. */
  msgNode(vs, type, path, f, o = {}) {
    const det = h('details', { class: 'msg', 'data-path': path });
    let cb = null;
    const stateTag = h('span', { class: 'msg-state' });
    const mark = () => {
      const set = !!ms.get();
      det.classList.toggle('is-set', set);
      if (cb) cb.checked = set;
      stateTag.textContent = set ? '' : 'unset';
    };
    const ms = this.objSlot(vs, () => mark());
    const body = h('div', { class: 'msg-body' });
    let built = false;
    const build = () => {
      if (built) return;
      built = true;
      const frag = document.createDocumentFragment();
      this.fields(frag, type, ms, path);
      body.replaceChildren(frag);
      this.reapply();
    };
    det._build = build;
    if (o.settable) {
      cb = h('input', {
        type: 'checkbox', class: 'msg-set', title: 'set / unset this message',
        'aria-label': `set ${path}`,
      });
      cb.addEventListener('change', () => {
        if (cb.checked) {
          ms.ensure();
          det.open = true;
          build();
        } else {
          vs.del();
          if ([...this.skip].some((p) => p.startsWith(`${path}.`))) {
            // It held the destination or the selector (shown above): all again.
            this.render(this.cfg);
            this.changed();
            return;
          }
          built = false;
          body.replaceChildren();
          if (det.open) build();
        }
        mark();
        this.changed();
      });
    }
    const sum = h('summary', { title: path });
    if (cb) sum.append(cb);
    const name = o.title || (f ? f.name : '');
    if (name) sum.append(h('span', { class: 'fname', text: name }), ' ');
    sum.append(h('span', { class: 'ftype', text: f ? f.label : shortName(type) }));
    if (f && f.cardinality === 'required') sum.append(h('abbr', { class: 'req', title: 'required (proto2)', text: '*' }));
    if (o.linked) sum.append(h('span', { class: 'tag', text: 'linked' }));
    sum.append(stateTag);
    put(det, sum, this.helpEl(f), this.errEl(path), body);
    det.addEventListener('toggle', () => {
      if (det.open) build();
      const v = ms.get();
      if (v) { if (det.open) this.openSet.add(v); else this.openSet.delete(v); }
    });
    mark();
    const v = ms.get();
    const open = o.open !== undefined ? o.open : !!v;
    if ((v && this.openSet.has(v)) || open) { det.open = true; build(); }
    return det;
  }

  /** google.protobuf.Any: a type picker and the picked type's form. */
  anyNode(vs, path, f, o = {}) {
    const det = h('details', { class: 'msg any', 'data-path': path });
    let cb = null;
    const typeTag = h('span', { class: 'msg-state' });
    const mark = () => {
      const v = vs.get();
      const set = v !== undefined;
      det.classList.toggle('is-set', set);
      if (cb) cb.checked = set;
      typeTag.textContent = !set ? 'unset' : isObj(v) && v['@type'] ? v['@type'] : typeof v === 'string' ? 'JSON' : '';
    };
    const body = h('div', { class: 'msg-body' });
    let built = false;
    const build = () => {
      if (built) return;
      built = true;
      const id = uid();
      const pick = h('select', { id, class: 'any-type mono', 'data-path': `${path}.@type` });
      pick.append(new Option('(pick a type)', ''));
      if (typeof vs.get() === 'string') pick.append(new Option('(Any JSON text)', '@json'));
      for (const t of this.types) pick.append(new Option(t, t));
      const inner = h('div', { class: 'any-inner' });
      const showInner = async () => {
        const v = vs.get();
        if (typeof v === 'string') {
          pick.value = '@json';
          const ta = h('textarea', { class: 'mono', rows: 3, spellcheck: false, 'aria-label': `${path} as Any JSON` });
          ta.value = v;
          ta.addEventListener('input', () => { vs.set(ta.value); this.changed(); });
          inner.replaceChildren(ta);
          return;
        }
        const t = isObj(v) && typeof v['@type'] === 'string' ? v['@type'] : '';
        if (t && ![...pick.options].some((op) => op.value === t)) pick.append(new Option(t, t));
        pick.value = t;
        if (!t) { inner.replaceChildren(); return; }
        inner.replaceChildren(h('div', { class: 'muted', text: `loading ${t}…` }));
        try { await this.loadModel(t); } catch { inner.replaceChildren(h('div', { class: 'err', text: `cannot load the model of ${t}` })); return; }
        if (vs.get() !== v) return;
        const ms = {
          get: () => { const a = vs.get(); return isObj(a) && isObj(a['@value']) ? a['@value'] : undefined; },
          ensure: () => {
            const a = vs.get();
            if (!isObj(a['@value'])) a['@value'] = {};
            return a['@value'];
          },
        };
        const frag = document.createDocumentFragment();
        this.fields(frag, t, ms, path);
        inner.replaceChildren(frag);
        this.reapply();
      };
      pick.addEventListener('change', () => {
        const t = pick.value;
        if (t === '@json') return;
        if (!t) {
          if (o.settable) vs.del(); else vs.set({});
        } else {
          const cur = vs.get();
          if (!(isObj(cur) && cur['@type'] === t)) vs.set({ '@type': t, '@value': {} });
        }
        mark();
        showInner();
        this.changed();
      });
      body.replaceChildren(h('div', { class: 'field' },
        h('label', { for: id }, h('span', { class: 'fname', text: '@type' }), ' ', h('span', { class: 'ftype', text: 'message type' })),
        h('div', { class: 'ctl' }, pick), null, this.errEl(`${path}.@type`)), inner);
      showInner();
    };
    det._build = build;
    if (o.settable) {
      cb = h('input', { type: 'checkbox', class: 'msg-set', 'aria-label': `set ${path}`, title: 'set / unset this Any' });
      cb.addEventListener('change', () => {
        if (cb.checked) { det.open = true; build(); } else {
          vs.del();
          built = false;
          body.replaceChildren();
          if (det.open) build();
        }
        mark();
        this.changed();
      });
    }
    const sum = h('summary', { title: path });
    if (cb) sum.append(cb);
    const name = o.title || (f ? f.name : '');
    if (name) sum.append(h('span', { class: 'fname', text: name }), ' ');
    sum.append(h('span', { class: 'ftype', text: f ? f.label : 'Any' }), typeTag);
    put(det, sum, this.helpEl(f), this.errEl(path), body);
    det.addEventListener('toggle', () => { if (det.open) build(); });
    mark();
    if (vs.get() !== undefined || o.open) { det.open = true; build(); }
    return det;
  }

  oneofEl(msg, name, ms, prefix) {
    const members = this.oneofMembers(msg, name);
    const decl = msg.oneofs.find((x) => x.name === name);
    const id = uid();
    const path = joinPath(prefix, name);
    const pick = h('select', { id, 'data-path': path, class: 'oneof-pick' });
    pick.append(new Option('(none)', ''));
    for (const m of members) {
      const f = this.field(msg, m);
      pick.append(new Option(`${m} (${f ? f.label : ''})`, m));
    }
    const holder = h('div', { class: 'oneof-body' });
    const row = h('div', { class: 'field oneof' },
      h('label', { for: id }, h('span', { class: 'fname', text: name }), ' ', h('span', { class: 'ftype', text: 'oneof' })),
      h('div', { class: 'ctl' }, pick),
      decl && decl.comment ? h('div', { class: 'help', text: decl.comment }) : null,
      this.errEl(path));
    const wrap = h('div', { class: 'oneof-wrap' }, row, holder);
    const show = (names) => {
      const frag = document.createDocumentFragment();
      for (const m of names) {
        const f = this.field(msg, m);
        if (f) frag.append(this.fieldEl(f, msg, ms, joinPath(prefix, m)));
      }
      holder.replaceChildren(frag);
    };
    const o = ms.get();
    const present = o ? members.filter((m) => m in o) : [];
    pick.value = present[0] || '';
    show(present);
    pick.addEventListener('change', () => {
      const chosen = pick.value;
      const cur = ms.get();
      if (cur) for (const m of members) if (m !== chosen) delete cur[m];
      if (chosen) {
        const f = this.field(msg, chosen);
        if (f && f.kind === 'message' && f.cardinality !== 'repeated' && f.cardinality !== 'map'
          && !this.wkt(f.type)) {
          const owner = ms.ensure();
          if (!isObj(owner[chosen])) owner[chosen] = {};
        }
        show([chosen]);
      } else holder.replaceChildren();
      this.reapply();
      this.changed();
    });
    return wrap;
  }

  // ---- lists and maps

  elemDefault(sp) {
    if (sp.kind === 'message' && (!sp.wkt || sp.wkt === 'any')) return {};
    if (sp.kind === 'bool') return 'false';
    if (sp.kind === 'enum') { const v = this.enumValues(sp.type)[0]; return v ? v.name : '0'; }
    return '';
  }

  rowButtons(i, n, path, move, remove) {
    return h('span', { class: 'row-btns' },
      h('button', { type: 'button', class: 'small up', text: '↑', title: 'move up', 'aria-label': `move ${path}[${i}] up`, disabled: i === 0, on: { click: () => move(i, -1) } }),
      h('button', { type: 'button', class: 'small down', text: '↓', title: 'move down', 'aria-label': `move ${path}[${i}] down`, disabled: i === n - 1, on: { click: () => move(i, 1) } }),
      h('button', { type: 'button', class: 'small remove', text: '✕', title: 'remove', 'aria-label': `remove ${path}[${i}]`, on: { click: () => remove(i) } }));
  }

  /** The shared part of lists and maps: rows, add, remove, reorder (paths renumbered by re-rendering). */
  rowsEl(f, vs, path, typeText, makeRow, newElem) {
    const getArr = () => { const a = vs.get(); return Array.isArray(a) ? a : undefined; };
    const ensureArr = () => { let a = getArr(); if (!a) { a = []; vs.set(a); } return a; };
    const wrap = h('div', { class: 'field list', 'data-path': path });
    const count = h('span', { class: 'count muted' });
    const ol = h('ol', { class: 'rows', 'aria-label': path });
    const render = (focusIndex, focusSel) => {
      const a = getArr() || [];
      const frag = document.createDocumentFragment();
      a.forEach((_, i) => {
        const li = h('li', { class: 'row', 'data-index': i });
        makeRow(li, i, a.length, getArr, { move, remove });
        frag.append(li);
      });
      ol.replaceChildren(frag);
      count.textContent = a.length ? `${a.length} ${a.length === 1 ? 'row' : 'rows'}` : 'empty';
      wrap.classList.toggle('is-set', a.length > 0);
      this.reapply();
      if (focusIndex !== undefined && ol.children[focusIndex]) {
        const t = ol.children[focusIndex].querySelector(focusSel || 'input, select, textarea, summary');
        if (t) t.focus();
      }
    };
    const move = (i, d) => {
      const a = getArr();
      const j = i + d;
      if (!a || j < 0 || j >= a.length) return;
      [a[i], a[j]] = [a[j], a[i]];
      render(j, d < 0 ? 'button.up:not([disabled]), button.down' : 'button.down:not([disabled]), button.up');
      this.changed();
    };
    const remove = (i) => {
      const a = getArr();
      if (!a) return;
      a.splice(i, 1);
      if (!a.length) vs.del();
      render(a.length ? Math.min(i, a.length - 1) : undefined, 'button.remove');
      if (!a.length) add.focus();
      this.changed();
    };
    const add = h('button', {
      type: 'button', class: 'small add', text: '+ add', 'aria-label': `add a row to ${path}`,
      on: {
        click: () => {
          const a = ensureArr();
          a.push(newElem());
          render(a.length - 1);
          this.changed();
        },
      },
    });
    const id = uid();
    put(wrap,
      h('div', { class: 'list-head' },
        h('span', { class: 'list-label', id },
          h('span', { class: 'fname', text: f.name }), ' ', h('span', { class: 'ftype', text: typeText })),
        count, add),
      this.helpEl(f), this.errEl(path), ol);
    ol.setAttribute('aria-labelledby', id);
    render();
    return wrap;
  }

  listEl(f, vs, path) {
    const sp = this.specOf(f.kind, f.type, f);
    sp.optional = false;
    const isMsg = f.kind === 'message' && !sp.wkt;
    const isAny = sp.wkt === 'any';
    return this.rowsEl(f, vs, path, f.label, (li, i, n, getArr, ops) => {
      const p = `${path}[${i}]`;
      const es = {
        get: () => { const a = getArr(); return a ? a[i] : undefined; },
        set: (v) => { getArr()[i] = v; },
        del: () => {},
      };
      li.append(h('span', { class: 'idx mono', text: `[${i}]` }));
      if (isMsg) {
        li.append(this.msgNode(es, f.type, p, null, { settable: false, open: n <= 20 }));
      } else if (isAny) {
        li.append(this.anyNode(es, p, null, { settable: false, open: true }));
      } else {
        const ctl = this.control(sp, es.get(), (v) => { es.set(v === undefined ? '' : v); this.changed(); },
          p, uid(), { ariaLabel: p });
        li.append(h('div', { class: 'ctl' }, ctl.el));
      }
      li.append(this.rowButtons(i, n, path, ops.move, ops.remove));
      if (!isMsg && !isAny) li.append(this.errEl(p));
    }, () => this.elemDefault(sp));
  }

  mapEl(f, vs, path) {
    const m = f.map || {};
    const ksp = this.specOf(m.key_kind || 'string', null, null);
    const vsp = this.specOf(m.value_kind || 'string', m.value_type, { hint: m.value_hint });
    const isMsg = vsp.kind === 'message' && !vsp.wkt;
    const isAny = vsp.wkt === 'any';
    return this.rowsEl(f, vs, path, f.label, (li, i, n, getArr, ops) => {
      const p = `${path}[${i}]`;
      const row = () => getArr()[i];
      li.classList.add('map-row');
      li.append(h('span', { class: 'idx mono', text: `[${i}]` }));
      const kctl = this.control(ksp, row()[0], (v) => { row()[0] = v === undefined ? '' : v; this.changed(); },
        `${p}.key`, uid(), { ariaLabel: `${p}.key` });
      kctl.focus.classList.add('map-key');
      if (kctl.focus.tagName === 'INPUT') kctl.focus.placeholder = `key (${m.key_kind || 'string'})`;
      const valSlot = { get: () => row()[1], set: (v) => { row()[1] = v; }, del: () => {} };
      let valEl;
      if (isMsg) valEl = this.msgNode(valSlot, vsp.type, `${p}.value`, null, { settable: false, open: n <= 20, title: 'value' });
      else if (isAny) valEl = this.anyNode(valSlot, `${p}.value`, null, { settable: false, open: true, title: 'value' });
      else {
        const vctl = this.control(vsp, row()[1], (v) => { row()[1] = v === undefined ? '' : v; this.changed(); },
          `${p}.value`, uid(), { ariaLabel: `${p}.value` });
        valEl = h('div', { class: 'ctl' }, vctl.el, this.errEl(`${p}.value`));
      }
      li.append(
        h('div', { class: 'map-kv' },
          h('div', { class: 'ctl' }, kctl.el, this.errEl(`${p}.key`)),
          h('span', { class: 'arrow muted', text: '→' }),
          valEl),
        this.rowButtons(i, n, path, ops.move, ops.remove),
        this.errEl(p));
    }, () => ['', this.elemDefault(vsp)]);
  }

  // ---- errors beside the fields

  /** errors: [{path, message}]; each shown at the closest element naming its path. */
  applyErrors(errors) {
    this.errors = errors;
    this.reapply();
  }

  reapply() {
    if (!this.rootEl) return;
    for (const el of this.errShown) { el.replaceChildren(); el.hidden = true; }
    for (const el of this.invalid) el.removeAttribute('aria-invalid');
    this.errShown = [];
    this.invalid = [];
    for (const e of this.errors) {
      let p = e.path || '';
      let el = null;
      for (;;) {
        el = this.rootEl.querySelector(sel('data-error-for', p));
        if (el || p === '') break;
        p = parentPath(p);
      }
      if (!el) continue;
      el.append(h('div', null, h('code', { text: e.path || '(message)' }), ' ', e.message));
      el.hidden = false;
      this.errShown.push(el);
      const inp = this.rootEl.querySelector(sel('data-path', e.path || ''));
      if (inp && inp.matches('input, select, textarea')) {
        inp.setAttribute('aria-invalid', 'true');
        this.invalid.push(inp);
      }
    }
  }

  /** Opens the folded messages down to a path and focuses its control. */
  reveal(path) {
    const chain = [];
    for (let p = path; p; p = parentPath(p)) chain.unshift(p);
    let target = null;
    for (const p of chain) {
      const el = this.rootEl.querySelector(sel('data-path', p));
      if (!el) continue;
      target = el;
      if (el.tagName === 'DETAILS' && !el.open) {
        el.open = true;
        if (el._build) el._build();
      }
    }
    if (!target) target = this.rootEl.querySelector(sel('data-error-for', path)) || null;
    if (!target) return false;
    const focusable = target.tagName === 'DETAILS' ? target.querySelector('summary') : target;
    focusable.scrollIntoView({ block: 'center' });
    if (focusable.focus) focusable.focus({ preventScroll: true });
    return true;
  }
}

// ---------------------------------------------------------------- the page's state

const S = {
  info: null,
  reg: { messages: {}, enums: {} },
  models: new Map(), // type → model answer (structure; start is refetched)
  type: null,
  model: null,
  state: {},
  start: null,
  linkOn: false,
  lastBuild: null,
  sending: false,
};

let readyDone = false;
let resolveReady;
let rejectReady;
const ready = new Promise((res, rej) => { resolveReady = res; rejectReady = rej; });
ready.catch(() => {});

window.commander = {
  ready,
  state: () => clone(S.state),
  lastBuild: () => S.lastBuild,
};

function merge(m) {
  Object.assign(S.reg.messages, m.messages || {});
  Object.assign(S.reg.enums, m.enums || {});
}

/** The model of a type (fetched once; `fresh` fetches again for a new `start`). */
async function loadModel(type, fresh = false) {
  if (!fresh && S.models.has(type)) return S.models.get(type);
  const m = await api(`/api/model?type=${encodeURIComponent(type)}`);
  merge(m);
  S.models.set(type, m);
  return m;
}

const form = new Form({
  rootEl: null,
  destEl: null,
  linkEl: null,
  fieldsEl: null,
  reg: S.reg,
  types: [],
  loadModel: (t) => loadModel(t),
  onChange: () => changed(),
  onLinkChange: (on) => { S.linkOn = on; },
});

function renderForm() {
  form.render({
    type: S.type,
    state: S.state,
    start: S.start,
    defaults: (S.model && S.model.defaults) || {},
    link: (S.model && S.model.link) || null,
    linkOn: S.linkOn,
    topicFields: (S.info && S.info.topic_fields) || [],
  });
}

let typeSeq = 0;

/** Shows the form of a type: from `opts.state` (hash, history, parse) or the profile's start. */
async function setType(type, opts = {}) {
  const seq = ++typeSeq;
  const m = await loadModel(type, true);
  if (seq !== typeSeq) return;
  S.type = type;
  S.model = m;
  S.start = m.start !== undefined ? m.start : null;
  S.state = isObj(opts.state) ? opts.state : (clone(m.start) || {});
  S.linkOn = !!m.link && opts.link !== false;
  const t = $('type');
  if (t.value !== type) t.value = type;
  form.cfg = { type, state: S.state, link: m.link || null };
  if (S.linkOn && !form.linkConsistent()) S.linkOn = false;
  renderForm();
  scheduleBuild(0);
}

// ---------------------------------------------------------------- build

let buildTimer = 0;
let buildArmed = false;
let buildSeq = 0;
let buildsInFlight = 0;

function setBuilding() {
  document.body.dataset.building = buildArmed || buildsInFlight > 0 ? '1' : '0';
}

function changed() { scheduleBuild(); }

function scheduleBuild(delay = 150) {
  clearTimeout(buildTimer);
  buildArmed = true;
  setBuilding();
  buildTimer = setTimeout(doBuild, delay);
}

function explicitTopic() {
  const v = $('topic-input').value.trim();
  return v === '' ? null : v;
}

async function doBuild() {
  buildArmed = false;
  if (!S.type) { setBuilding(); return; }
  const seq = ++buildSeq;
  writeHash();
  buildsInFlight++;
  setBuilding();
  let ans = null;
  try {
    ans = await api('/api/build', { type: S.type, state: S.state, start: S.start, topic: explicitTopic() });
  } catch (e) {
    if (!readyDone && e.status === 401) rejectReady(e);
  } finally {
    buildsInFlight--;
  }
  if (ans && seq === buildSeq) {
    S.lastBuild = ans;
    showBuild(ans);
  }
  setBuilding();
  if (ans && !readyDone) {
    readyDone = true;
    document.body.dataset.ready = '1';
    resolveReady();
  }
}

let jsonDirty = false;
let parseTimer = 0;
let parseSeq = 0;

function showBuild(b) {
  const json = $('json');
  if (!(document.activeElement === json && jsonDirty)) {
    json.value = b.json || '';
    jsonDirty = false;
    $('json-error').hidden = true;
    $('json-error').textContent = '';
  }
  $('hex').textContent = b.hex || '';
  $('base64').textContent = b.base64 || '';
  $('size').textContent = `${b.size} ${b.size === 1 ? 'byte' : 'bytes'}`;
  $('cli-send').textContent = (b.cli && b.cli.send) || '';
  $('cli-encode').textContent = (b.cli && b.cli.encode) || '';

  const topicEl = $('topic');
  const terr = $('topic-error');
  topicEl.textContent = b.topic || '';
  terr.hidden = !b.topic_error;
  terr.textContent = b.topic_error || '';
  if (b.topic_error && S.info && !S.info.command_topic) showTopicInput(true);

  const errs = (b.errors || []).map((e) => ({ path: e.path, message: e.message }));
  for (const p of b.missing_required || []) errs.push({ path: p, message: 'required field not set' });
  form.applyErrors(errs);
  const list = $('errors');
  const frag = document.createDocumentFragment();
  for (const e of errs) {
    frag.append(h('li', null, h('button', {
      type: 'button', class: 'err-link', 'data-path': e.path,
      title: 'show the field',
      on: { click: () => { showTab('build'); form.reveal(e.path); } },
    }, h('code', { text: e.path || '(message)' }), ' ', e.message)));
  }
  if (b.topic_error) {
    frag.append(h('li', null, h('button', {
      type: 'button', class: 'err-link', title: 'show the destination',
      on: { click: () => { const i = $('dest-fields').querySelector('input, select') || $('topic-input'); showTopicInput(!i); (i || $('topic-input')).focus(); } },
    }, h('code', { text: 'topic' }), ' ', b.topic_error)));
  }
  if (!frag.childNodes.length) frag.append(h('li', { class: 'ok', text: 'no errors' }));
  list.replaceChildren(frag);
  const n = errs.length + (b.topic_error ? 1 : 0);
  $('error-count').textContent = n ? `${n}` : '';
  updateSend();
}

function sendBlocker() {
  const b = S.lastBuild;
  if (S.sending) return 'sending…';
  if (!b) return 'building…';
  if (b.errors && b.errors.length) return `${b.errors.length} ${b.errors.length === 1 ? 'error' : 'errors'} to fix first`;
  if (b.missing_required && b.missing_required.length) return 'required fields not set';
  if (b.topic_error) return 'no topic: see the destination';
  if (!b.topic) return 'no topic';
  return '';
}

function updateSend() {
  const why = sendBlocker();
  const btn = $('send');
  btn.disabled = !!why;
  btn.title = why || `publish to ${S.lastBuild.topic}`;
  $('send-to').textContent = why ? why : `→ ${S.lastBuild.topic}`;
  $('send-to').classList.toggle('bad', !!why && !S.sending && why !== 'building…');
}

function showTopicInput(show) {
  $('topic-explicit').hidden = !show;
  $('topic-edit').setAttribute('aria-expanded', String(show));
  $('topic-edit').textContent = show ? 'profile topic' : 'other topic…';
}

// ---- the JSON pane: editing it re-renders the form

async function parseJson() {
  parseTimer = 0;
  const text = $('json').value;
  const seq = ++parseSeq;
  let ans;
  try { ans = await api('/api/parse', { type: S.type, json: text }); } catch { return; }
  if (seq !== parseSeq) return;
  const err = $('json-error');
  if (ans.error) {
    err.textContent = ans.error;
    err.hidden = false;
    return;
  }
  err.hidden = true;
  err.textContent = '';
  S.state = isObj(ans.state) ? ans.state : {};
  form.cfg.state = S.state;
  if (S.linkOn && !form.linkConsistent()) S.linkOn = false;
  renderForm();
  scheduleBuild(0);
}

// ---------------------------------------------------------------- URL hash (share a form)

let hashTimer = 0;
function writeHash() {
  clearTimeout(hashTimer);
  hashTimer = setTimeout(() => {
    try {
      const url = `#s=${b64urlEncode(JSON.stringify({ type: S.type, state: S.state, link: S.linkOn }))}`;
      if (location.hash !== url) history.replaceState(null, '', url);
    } catch { /* too large or refused: keep the old hash */ }
  }, 50);
}

function readHash() {
  const m = /^#s=([A-Za-z0-9_-]+)/.exec(location.hash);
  if (!m) return null;
  try {
    const v = JSON.parse(b64urlDecode(m[1]));
    return isObj(v) && typeof v.type === 'string' ? v : null;
  } catch { return null; }
}

// ---------------------------------------------------------------- send and reply

let sendTicker = 0;

async function send(entry) {
  if (S.sending) return;
  const body = entry
    ? { type: entry.type, state: entry.state, start: null, topic: entry.explicitTopic || null, timeout_ms: S.info.timeout_ms }
    : { type: S.type, state: clone(S.state), start: S.start, topic: explicitTopic(), timeout_ms: S.info.timeout_ms };
  const topic = entry ? entry.topic : (S.lastBuild && S.lastBuild.topic) || explicitTopic() || '';
  const status = $('reply-status');
  S.sending = true;
  updateSend();
  const t0 = performance.now();
  status.className = 'status busy';
  const waiting = () => {
    const s = ((performance.now() - t0) / 1000).toFixed(1);
    status.textContent = `publishing to ${topic}; waiting for the reply… ${s} s`;
  };
  waiting();
  sendTicker = setInterval(waiting, 100);
  let ans = null;
  let failure = null;
  try {
    ans = await api('/api/send', body);
  } catch (e) {
    failure = e.message;
  } finally {
    clearInterval(sendTicker);
    S.sending = false;
    updateSend();
  }
  const record = {
    time: new Date().toISOString(),
    type: body.type,
    state: clone(body.state),
    link: entry ? entry.link : S.linkOn,
    selector: entry ? entry.selector : selectorValue(body.state),
    topic,
    explicitTopic: body.topic,
    status: 'error',
    text: '',
    latency_ms: null,
  };
  if (failure !== null) {
    status.className = 'status bad';
    status.textContent = `not sent: ${failure}`;
    record.text = failure;
    addHistory(record);
    return;
  }
  showReply(ans);
  if (ans.errors && ans.errors.length && !entry) {
    form.applyErrors(ans.errors);
  }
  record.topic = ans.topic || topic;
  if (!ans.sent) {
    record.status = 'error';
    record.text = ans.error || 'not sent';
  } else if (ans.reply) {
    record.status = 'reply';
    record.latency_ms = ans.reply.latency_ms;
    record.text = `reply in ${ans.reply.latency_ms} ms`;
  } else if (ans.timeout) {
    record.status = 'timeout';
    record.text = `no reply within ${fmtMs(ans.timeout_ms || S.info.timeout_ms)}`;
  } else {
    record.status = 'sent';
    record.text = 'published';
  }
  addHistory(record);
}

function selectorValue(state) {
  const link = S.model && S.model.link;
  if (!link) return null;
  const v = getAt(state, link.selector);
  return typeof v === 'string' ? v : null;
}

function showReply(ans) {
  const status = $('reply-status');
  const pane = $('reply');
  const notes = $('reply-notes');
  notes.replaceChildren(...(ans.notes || []).map((n) => h('li', { text: n })));
  if (!ans.sent) {
    status.className = 'status bad';
    status.textContent = ans.error || 'not sent';
    pane.hidden = !(ans.notes && ans.notes.length);
    $('reply-table').textContent = '';
    $('reply-json').textContent = '';
    $('reply-meta').textContent = '';
    return;
  }
  const r = ans.reply;
  if (r) {
    status.className = 'status good';
    status.textContent = `published to ${ans.topic}; reply in ${r.latency_ms} ms on ${ans.response_topic}`;
    $('reply-meta').textContent = `${r.type || '(raw)'} · ${r.size} bytes · ${r.latency_ms} ms`;
    $('reply-table').textContent = r.table || '';
    $('reply-json').textContent = r.json || '';
    pane.hidden = false;
    pane.scrollIntoView({ block: 'nearest' });
  } else {
    status.className = ans.timeout ? 'status bad' : 'status good';
    status.textContent = ans.timeout
      ? `published to ${ans.topic}; no reply within ${fmtMs(ans.timeout_ms || S.info.timeout_ms)} on ${ans.response_topic}`
      : `published to ${ans.topic}${ans.response_topic ? '' : ' (no reply expected)'}`;
    $('reply-meta').textContent = '';
    $('reply-table').textContent = '';
    $('reply-json').textContent = '';
    pane.hidden = !(ans.notes && ans.notes.length);
  }
}

// ---------------------------------------------------------------- history

function loadHistory() {
  try {
    const v = JSON.parse(localStorage.getItem(HISTORY_KEY) || '[]');
    return Array.isArray(v) ? v.filter(isObj) : [];
  } catch { return []; }
}

function saveHistory(list) {
  try { localStorage.setItem(HISTORY_KEY, JSON.stringify(list)); } catch { /* full: keep in memory */ }
}

let historyList = [];

function addHistory(rec) {
  historyList.unshift(rec);
  if (historyList.length > HISTORY_MAX) historyList.length = HISTORY_MAX;
  saveHistory(historyList);
  renderHistory();
}

function renderHistory() {
  const ol = $('history');
  const frag = document.createDocumentFragment();
  historyList.forEach((e, i) => {
    const t = new Date(e.time);
    const when = Number.isNaN(t.getTime()) ? '' : t.toLocaleTimeString([], { hour12: false });
    frag.append(h('li', { class: `h-entry h-${e.status}`, 'data-index': i },
      h('time', { dateTime: e.time, title: e.time, text: when }),
      h('span', { class: 'h-type', title: e.type, text: shortName(e.type) }),
      h('span', { class: 'h-sel mono', text: e.selector || '' }),
      h('code', { class: 'h-topic', title: e.topic, text: e.topic || '' }),
      h('span', { class: 'h-status', title: e.text, text: e.text || e.status }),
      h('span', { class: 'h-actions' },
        h('button', { type: 'button', class: 'small h-edit', text: 'edit', 'aria-label': `edit the ${shortName(e.type)} sent at ${when}`, on: { click: () => { editEntry(e); } } }),
        h('button', { type: 'button', class: 'small h-resend', text: 'resend', 'aria-label': `resend the ${shortName(e.type)} sent at ${when}`, on: { click: () => send(e) } }))));
  });
  if (!historyList.length) frag.append(h('li', { class: 'muted empty', text: 'nothing sent yet' }));
  ol.replaceChildren(frag);
  $('history-count').textContent = historyList.length ? `${historyList.length}` : '';
}

async function editEntry(e) {
  if (!S.info.messages.includes(e.type)) return;
  $('topic-input').value = e.explicitTopic || '';
  showTopicInput(!!e.explicitTopic);
  try { await setType(e.type, { state: clone(e.state), link: e.link }); } catch { return; }
  showTab('build');
  window.scrollTo({ top: 0 });
}

// ---------------------------------------------------------------- live view

const LIVE_MAX = 5000; // messages kept in memory
const ROWS_MAX = 500; // rows in the table

const live = {
  ws: null,
  started: false,
  subs: null,
  retry: 0,
  retryTimer: 0,
  opened: false,
  buf: new Array(LIVE_MAX),
  stored: 0, // messages ever stored (index of the next)
  rendered: 0, // messages up to this index considered for the table
  received: 0,
  dropped: 0,
  rows: 0,
  paused: false,
  filter: '',
  raf: 0,
  lastFrame: 0,
  full: false,
};

function liveWsUrl() {
  const proto = location.protocol === 'https:' ? 'wss:' : 'ws:';
  return `${proto}//${location.host}/api/live${token ? `?token=${encodeURIComponent(token)}` : ''}`;
}

function liveStatus(text, bad) {
  const el = $('live-status');
  el.textContent = text;
  el.classList.toggle('bad', !!bad);
}

function liveConnect() {
  if (live.ws) return;
  clearTimeout(live.retryTimer);
  let ws;
  try { ws = new WebSocket(liveWsUrl()); } catch (e) { liveStatus(`cannot connect: ${e.message}`, true); return; }
  live.ws = ws;
  live.opened = false;
  liveStatus('connecting…');
  ws.onopen = () => {
    live.opened = true;
    live.retry = 0;
    liveStatus('connected');
    if (live.subs) ws.send(JSON.stringify({ subscribe: live.subs }));
  };
  ws.onmessage = (ev) => {
    let d;
    try { d = JSON.parse(ev.data); } catch { return; }
    switch (d.kind) {
      case 'batch':
        for (const m of d.messages || []) livePush(m);
        break;
      case 'dropped':
        live.dropped += d.count || 0;
        break;
      case 'status': {
        const n = (d.subscribed || []).length;
        liveStatus(n ? `subscribed to ${n} ${n === 1 ? 'filter' : 'filters'} on ${d.url || 'the broker'}` : 'not subscribed');
        break;
      }
      case 'error':
        liveStatus(d.message, true);
        $('live-note').textContent = '';
        break;
      case 'note':
        $('live-note').textContent = d.message;
        break;
      default:
    }
    liveSchedule();
  };
  ws.onclose = () => {
    const wasOpen = live.opened;
    live.ws = null;
    const delay = Math.min(30000, 500 * 2 ** live.retry);
    live.retry++;
    liveStatus(`disconnected; reconnecting in ${fmtMs(Math.round(delay / 100) * 100)}`, true);
    live.retryTimer = setTimeout(liveConnect, delay);
    if (!wasOpen) api('/api/info').catch(() => {}); // a 401 shows the token banner
  };
}

function liveFilters() {
  const vehicle = $('live-vehicle').value.trim();
  const out = [];
  for (const row of $('live-filters').querySelectorAll('.lf-row')) {
    const on = row.querySelector('.live-filter-on');
    const f = row.querySelector('.live-filter').value.trim();
    if (!on.checked || !f) continue;
    out.push(vehicle ? f.replace('+', () => vehicle) : f);
  }
  return out;
}

function liveSubscribe() {
  live.subs = liveFilters();
  live.started = true;
  if (live.ws && live.ws.readyState === WebSocket.OPEN) live.ws.send(JSON.stringify({ subscribe: live.subs }));
  else liveConnect();
}

function liveFilterRow(filter, type, on = true) {
  const row = h('div', { class: 'lf-row' });
  const id = uid();
  const cb = h('input', { type: 'checkbox', class: 'live-filter-on', checked: on, 'aria-label': 'use this filter' });
  const inp = h('input', {
    type: 'text', id, class: 'live-filter mono', value: filter, spellcheck: false, autocomplete: 'off',
    'aria-label': 'topic filter', placeholder: 'a/+/topic/#',
  });
  row.append(cb, inp, h('span', { class: 'lf-type muted mono', text: type ? `→ ${type}` : '' }),
    h('button', {
      type: 'button', class: 'small lf-remove', text: '✕', 'aria-label': 'remove this filter',
      on: { click: () => row.remove() },
    }));
  return row;
}

function livePush(m) {
  live.received++;
  live.buf[live.stored % LIVE_MAX] = m;
  live.stored++;
}

/**
 * At most ~10 table updates a second, each in an animation frame (a flood
 * costs one batch of rows per update, not a layout per message); in a
 * hidden tab (no frames) a few a second.
 */
const LIVE_EVERY_MS = 100;
function liveSchedule() {
  if (live.raf) return;
  const wait = Math.max(0, live.lastFrame + LIVE_EVERY_MS - performance.now());
  if (document.hidden) live.raf = setTimeout(liveFrame, Math.max(wait, 250));
  else if (wait > 0) live.raf = setTimeout(() => { live.raf = requestAnimationFrame(liveFrame); }, wait);
  else live.raf = requestAnimationFrame(liveFrame);
}

function liveMatches(m) {
  const q = live.filter;
  if (!q) return true;
  return m.topic.toLowerCase().includes(q)
    || (m.type || '').toLowerCase().includes(q)
    || (m.json || '').toLowerCase().includes(q)
    || (m.error || '').toLowerCase().includes(q);
}

function liveTime(t) {
  const s = typeof t === 'string' ? t : '';
  const i = s.indexOf('T');
  return i < 0 ? s : s.slice(i + 1).replace('Z', '').slice(0, 12);
}

const CONTENT_MAX = 2000; // characters of JSON in a cell (CSS cuts what shows)

// The header the profile fills in (ids, vehicle, time) says little in a row
// whose topic names the vehicle: the summary starts with what differs. The
// full message is one click away.
let headerRes = null;
function withoutHeader(j) {
  if (!headerRes) {
    headerRes = ((S.info && S.info.header_fields) || []).map(
      (f) => new RegExp(`"${f.replace(/[^A-Za-z0-9_]/g, '')}":("(?:[^"\\\\]|\\\\.)*"|-?[0-9.eE+-]+|true|false),?`),
    );
  }
  let out = j;
  for (const re of headerRes) out = out.replace(re, '');
  return out.replace(/,}$/, '}');
}

function liveRow(m) {
  const tr = document.createElement('tr');
  tr.dataset.type = m.type || '';
  tr.dataset.topic = m.topic;
  tr.dataset.seq = m.seq;
  tr._m = m;
  tr.tabIndex = 0;
  if (m.error) tr.className = 'error';
  const td = (text, cls) => {
    const c = document.createElement('td');
    if (cls) c.className = cls;
    c.textContent = text;
    return c;
  };
  let content;
  if (m.error) {
    const hex = m.hex || '';
    content = `hex ${hex.length > 48 ? `${hex.slice(0, 48)}…` : hex} · ${m.error}`;
  } else {
    const j = withoutHeader(m.json || '');
    content = j.length > CONTENT_MAX ? `${j.slice(0, CONTENT_MAX)}…` : j;
  }
  tr.append(td(liveTime(m.time)), td(m.topic), td(m.type || '(raw)'), td(String(m.size), 'num'), td(content, 'content'));
  return tr;
}

function liveTrim(tbody) {
  while (live.rows > ROWS_MAX) {
    const last = tbody.lastElementChild;
    if (!last) break;
    last.remove();
    if (!last.classList.contains('detail')) live.rows--;
  }
}

function liveFrame() {
  live.raf = 0;
  live.lastFrame = performance.now();
  liveCount();
  if (live.paused) return;
  const tbody = $('live-table').tBodies[0];
  if (live.full) { liveFull(tbody); return; }
  const from = Math.max(live.rendered, live.stored - ROWS_MAX);
  if (from >= live.stored) return;
  const frag = document.createDocumentFragment();
  let added = 0;
  for (let k = live.stored - 1; k >= from; k--) {
    const m = live.buf[k % LIVE_MAX];
    if (liveMatches(m)) { frag.append(liveRow(m)); added++; }
  }
  live.rendered = live.stored;
  if (added) {
    tbody.prepend(frag);
    live.rows += added;
    liveTrim(tbody);
  }
  liveCount();
}

/** The table again from memory (filter changed, resumed, cleared). */
function liveFull(tbody) {
  live.full = false;
  const frag = document.createDocumentFragment();
  let n = 0;
  const oldest = Math.max(0, live.stored - LIVE_MAX);
  for (let k = live.stored - 1; k >= oldest && n < ROWS_MAX; k--) {
    const m = live.buf[k % LIVE_MAX];
    if (liveMatches(m)) { frag.append(liveRow(m)); n++; }
  }
  tbody.replaceChildren(frag);
  live.rows = n;
  live.rendered = live.stored;
  liveCount();
}

function liveCount() {
  const el = $('live-count');
  const waiting = live.paused ? Math.min(live.stored - live.rendered, LIVE_MAX) : 0;
  el.textContent = `received ${live.received} · shown ${live.rows} · dropped ${live.dropped}`
    + (live.paused ? ` · paused, ${waiting} new` : '');
  el.dataset.received = live.received;
  el.dataset.shown = live.rows;
  el.dataset.dropped = live.dropped;
}

function liveToggleDetail(tr) {
  const next = tr.nextElementSibling;
  if (next && next.classList.contains('detail')) {
    next.remove();
    tr.classList.remove('open');
    return;
  }
  const m = tr._m;
  tr.classList.add('open');
  const tableOut = h('pre', { class: 'table-text detail-table', hidden: true });
  const actions = h('div', { class: 'detail-actions' },
    h('button', {
      type: 'button', class: 'small live-decode-table', text: 'table',
      title: 'decode it as the CLI does (/api/decode)',
      on: {
        click: async () => {
          tableOut.hidden = false;
          tableOut.textContent = 'decoding…';
          try {
            const r = await api('/api/decode', { type: m.type, input: m.hex });
            tableOut.textContent = r.error ? r.error : r.table;
            tableOut.classList.toggle('bad', !!r.error);
          } catch (e) { tableOut.textContent = e.message; }
        },
      },
    }),
    h('button', {
      type: 'button', class: 'small', text: 'decode pane',
      title: 'open it in the decode pane',
      on: { click: () => { $('decode-input').value = m.hex; if (m.type) $('decode-type').value = m.type; showTab('decode'); runDecode(); } },
    }),
    h('span', { class: 'muted mono', text: `#${m.seq} · ${m.time} · ${m.size} bytes` }));
  const cell = h('td', { colSpan: 5 }, actions, tableOut);
  if (m.error) cell.append(h('div', { class: 'err', text: m.error }));
  if (m.json) cell.append(h('pre', { class: 'json-text', text: prettyJson(m.json) }));
  cell.append(h('pre', { class: 'bytes', text: `hex ${m.hex}` }));
  const dtr = h('tr', { class: 'detail' }, cell);
  tr.after(dtr);
}

function initLive() {
  const box = $('live-filters');
  for (const t of S.info.types || []) box.append(liveFilterRow(t.filter, t.type));
  if (!(S.info.types || []).length) box.append(liveFilterRow('#', null));
  $('live-filter-add').addEventListener('click', () => {
    const r = liveFilterRow('', null);
    box.append(r);
    r.querySelector('.live-filter').focus();
  });
  $('live-subscribe').addEventListener('click', liveSubscribe);
  $('live-vehicle').addEventListener('keydown', (e) => { if (e.key === 'Enter') liveSubscribe(); });
  box.addEventListener('keydown', (e) => { if (e.key === 'Enter' && e.target.matches('.live-filter')) liveSubscribe(); });
  let ft = 0;
  const onFilter = () => {
    clearTimeout(ft);
    ft = setTimeout(() => {
      const q = $('live-filter-text').value.trim().toLowerCase();
      if (q === live.filter) return;
      live.filter = q;
      live.full = true;
      liveSchedule();
    }, 120);
  };
  for (const ev of ['input', 'change', 'search']) $('live-filter-text').addEventListener(ev, onFilter);
  $('live-pause').addEventListener('click', () => {
    live.paused = !live.paused;
    const b = $('live-pause');
    b.textContent = live.paused ? 'resume' : 'pause';
    b.setAttribute('aria-pressed', String(live.paused));
    if (!live.paused) live.full = true;
    liveSchedule();
  });
  $('live-clear').addEventListener('click', () => {
    live.buf = new Array(LIVE_MAX);
    live.stored = 0;
    live.rendered = 0;
    live.received = 0;
    live.dropped = 0;
    live.rows = 0;
    $('live-table').tBodies[0].replaceChildren();
    liveCount();
  });
  const tbody = $('live-table').tBodies[0];
  tbody.addEventListener('click', (e) => {
    const tr = e.target.closest('tr');
    if (!tr || tr.classList.contains('detail')) return;
    liveToggleDetail(tr);
  });
  tbody.addEventListener('keydown', (e) => {
    if ((e.key === 'Enter' || e.key === ' ') && e.target.matches('tr') && !e.target.classList.contains('detail')) {
      e.preventDefault();
      liveToggleDetail(e.target);
    }
  });
  liveCount();
}

// ---------------------------------------------------------------- decode pane

async function runDecode() {
  const input = $('decode-input').value;
  const type = $('decode-type').value || null;
  const err = $('decode-error');
  err.hidden = true;
  let r;
  try { r = await api('/api/decode', { type, input }); } catch (e) {
    err.textContent = e.message;
    err.hidden = false;
    return;
  }
  if (r.error) {
    err.textContent = r.error;
    err.hidden = false;
    $('decode-table').textContent = '';
    $('decode-json').textContent = '';
    $('decode-size').textContent = '';
    return;
  }
  $('decode-table').textContent = r.table;
  $('decode-json').textContent = r.json;
  $('decode-size').textContent = `${r.size} bytes`;
}

// ---------------------------------------------------------------- tabs, copy, banner

const TABS = ['build', 'live', 'decode'];

function showTab(name) {
  for (const t of TABS) {
    const b = $(`tab-${t}`);
    b.setAttribute('aria-selected', String(t === name));
    b.tabIndex = t === name ? 0 : -1;
    $(t).hidden = t !== name;
  }
  try { sessionStorage.setItem('commander-tab', name); } catch { /* ignore */ }
  if (name === 'live' && !live.started && S.info) liveSubscribe();
}

function initTabs() {
  for (const t of TABS) $(`tab-${t}`).addEventListener('click', () => showTab(t));
  document.querySelector('.tabs').addEventListener('keydown', (e) => {
    const i = TABS.findIndex((t) => $(`tab-${t}`) === document.activeElement);
    if (i < 0) return;
    let j = -1;
    if (e.key === 'ArrowRight') j = (i + 1) % TABS.length;
    if (e.key === 'ArrowLeft') j = (i + TABS.length - 1) % TABS.length;
    if (e.key === 'Home') j = 0;
    if (e.key === 'End') j = TABS.length - 1;
    if (j >= 0) { e.preventDefault(); showTab(TABS[j]); $(`tab-${TABS[j]}`).focus(); }
  });
}

async function copyText(text, btn) {
  let ok = false;
  try { await navigator.clipboard.writeText(text); ok = true; } catch {
    const ta = h('textarea', { value: text, class: 'offscreen' });
    document.body.append(ta);
    ta.select();
    try { ok = document.execCommand('copy'); } catch { ok = false; }
    ta.remove();
  }
  const old = btn.textContent;
  btn.textContent = ok ? 'copied' : 'copy failed';
  setTimeout(() => { btn.textContent = old; }, 1000);
}

function initCopy() {
  document.addEventListener('click', (e) => {
    const b = e.target.closest('button.copy');
    if (!b) return;
    const src = $(b.dataset.copy);
    if (!src) return;
    const text = 'value' in src && src.tagName !== 'PRE' ? src.value : src.textContent;
    copyText(text, b);
  });
}

function showBanner(info) {
  $('profile').textContent = info.profile || '';
  $('broker-url').textContent = (info.broker && info.broker.url) || '(none: sending is off)';
  $('command-type').textContent = info.command || '';
  $('version').textContent = info.version ? `v${info.version}` : '';
  const note = $('broker-note');
  const b = info.broker || {};
  if (b.embedded) {
    const sims = (b.simulated || []).length
      ? `embedded MQTT broker and simulated ${b.simulated.length === 1 ? 'vehicle' : 'vehicles'} ${b.simulated.join(', ')} running. `
      : 'embedded MQTT broker running (no simulated vehicle). ';
    note.replaceChildren(h('strong', { text: `Test setup: ${sims}` }), h('span', { class: 'muted', text: b.note || '' }));
    note.hidden = false;
  } else if (b.note) {
    note.textContent = b.note;
    note.hidden = false;
  }
}

// ---------------------------------------------------------------- start

async function init() {
  document.body.dataset.ready = '0';
  document.body.dataset.building = '0';
  form.rootEl = $('form');
  form.destEl = $('dest-fields');
  form.linkEl = $('link-box');
  form.fieldsEl = $('fields');
  initTabs();
  initCopy();
  $('problem-close').addEventListener('click', () => { $('problem-banner').hidden = true; });
  $('form').addEventListener('submit', (e) => e.preventDefault());

  let info;
  try { info = await api('/api/info'); } catch (e) { rejectReady(e); return; }
  S.info = info;
  form.types = info.messages || [];
  showBanner(info);

  // type pickers
  const typeSel = $('type');
  const decSel = $('decode-type');
  decSel.append(new Option('(raw, no schema)', ''));
  for (const t of form.types) {
    typeSel.append(new Option(t, t));
    decSel.append(new Option(t, t));
  }
  decSel.value = info.response && form.types.includes(info.response) ? info.response : '';
  typeSel.addEventListener('change', () => { if (typeSel.value) setType(typeSel.value).catch(() => {}); });
  // The filter narrows the list; Enter (or a single match) takes the first one.
  const typeFilter = $('type-filter');
  typeFilter.title = 'filter the message types; Enter picks the first';
  typeFilter.addEventListener('input', () => {
    const words = typeFilter.value.toLowerCase().split(/\s+/).filter(Boolean);
    for (const o of typeSel.options) o.hidden = !words.every((w) => o.value.toLowerCase().includes(w));
  });
  typeFilter.addEventListener('keydown', (e) => {
    if (e.key !== 'Enter') return;
    e.preventDefault();
    const first = [...typeSel.options].find((o) => !o.hidden);
    if (first && first.value !== S.type) { typeSel.value = first.value; setType(first.value).catch(() => {}); }
  });

  $('new-ids').addEventListener('click', newIds);
  $('reset-form').addEventListener('click', () => setType(S.type).catch(() => {}));
  $('send').addEventListener('click', () => send());
  $('topic-edit').addEventListener('click', () => {
    const show = $('topic-explicit').hidden;
    showTopicInput(show);
    if (show) $('topic-input').focus();
    else { $('topic-input').value = ''; changed(); }
  });
  $('topic-input').addEventListener('input', () => changed());
  if (!info.command_topic) {
    // No template: the topic is typed here (the build says so until then).
    showTopicInput(true);
    $('topic-edit').hidden = true;
    $('topic-input').placeholder = 'the topic to publish to, like devices/42/command';
  }

  const json = $('json');
  json.addEventListener('input', () => {
    jsonDirty = true;
    clearTimeout(parseTimer);
    parseTimer = setTimeout(parseJson, 300);
  });
  json.addEventListener('blur', () => {
    // Leaving the pane parses at once; without an edit pending or an
    // error, the pane shows the build again (canonical JSON).
    if (parseTimer) { clearTimeout(parseTimer); parseJson(); return; }
    if ($('json-error').hidden && S.lastBuild) {
      jsonDirty = false;
      json.value = S.lastBuild.json || '';
    }
  });

  $('reply-json-toggle').addEventListener('click', () => {
    const b = $('reply-json-toggle');
    const show = b.getAttribute('aria-pressed') !== 'true';
    b.setAttribute('aria-pressed', String(show));
    b.textContent = show ? 'table' : 'JSON';
    $('reply-json').hidden = !show;
    $('reply-table').hidden = show;
  });

  historyList = loadHistory();
  renderHistory();
  $('history-clear').addEventListener('click', () => {
    if (!historyList.length || !window.confirm(`Forget the ${historyList.length} sent commands?`)) return;
    historyList = [];
    saveHistory(historyList);
    renderHistory();
  });

  $('decode-run').addEventListener('click', runDecode);
  $('decode-input').addEventListener('keydown', (e) => {
    if (e.key === 'Enter' && (e.ctrlKey || e.metaKey)) { e.preventDefault(); runDecode(); }
  });

  initLive();

  let tab = 'build';
  try { tab = sessionStorage.getItem('commander-tab') || 'build'; } catch { /* ignore */ }
  if (TABS.includes(tab) && tab !== 'build') showTab(tab);

  const fromHash = readHash();
  const first = fromHash && form.types.includes(fromHash.type)
    ? fromHash.type : info.command && form.types.includes(info.command) ? info.command : form.types[0];
  if (!first) { showProblem('the schema has no message types'); return; }
  try {
    if (fromHash && fromHash.type === first) {
      await setType(first, { state: isObj(fromHash.state) ? fromHash.state : {}, link: fromHash.link !== false });
    } else {
      await setType(first);
    }
  } catch (e) { rejectReady(e); }
}

/** Fresh values for the generated defaults ({uuid}, {now}, copies of them); fixed ones stay. */
async function newIds() {
  let m;
  try { m = await loadModel(S.type, true); } catch { return; }
  const defs = m.defaults || {};
  for (const [p, d] of Object.entries(defs)) {
    if (!/\{/.test(d.template || '')) continue;
    const nv = getAt(m.start || {}, p);
    if (nv === undefined) continue;
    setAt(S.state, p, nv);
  }
  S.model = m;
  S.start = m.start;
  renderForm();
  scheduleBuild(0);
}

if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', init);
else init();
