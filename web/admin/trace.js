/*
 * trace.js - how the dashboard words a code's place in the supply chain
 * (issue 19, review item 11), for the code lookup page (app.js's lookup())
 * and the shipments page: codes as links to their lookup, containers and
 * contents by serial with links ("装入 2 件：101、102"), distributors by
 * name, and a timeline that holds the code's own events and, for an item
 * inside a case inside a pallet, the containers' own packing and shipping
 * (the case → pallet step), with scans placed by rounded coordinates and
 * accuracy and a short device id.
 *
 * window.sigilTrace: codeOf(text), link(ref), refs(list), facts(doc),
 * timeline(doc) (a promise: it reads the containers' lookups), lines(text).
 * Text only: every value reaches the page through el().
 */
'use strict';

(function () {

const A = window.sigilAdmin;
if (!A)
	return;
const { el, t, api, fmt } = A;

Object.assign(A.TEXT.zh, {
	tr_holds: '装入 {n} 件', tr_packed_into: '装入上级包装',
	tr_unpacked_from: '取出自上级包装', tr_taken_out: '取出 {n} 件',
	tr_container: '上级包装', tr_inside: '所在包装', tr_contents: '内含',
	tr_and_more: '（共 {n} 件）', tr_none: '无',
	tr_shipment: '发货单', tr_near: '约', tr_m: '米',
	tr_region_ip: '据 IP 推断',
	tr_err_not_found: '找不到此码：它不是本品牌的码，或者码有误。',
	tr_err_bad_code: '这不是有效的码或码链接，请检查后重试。',
});
Object.assign(A.TEXT.en, {
	tr_holds: 'holds {n} items', tr_holds_1: 'holds 1 item',
	tr_packed_into: 'into', tr_unpacked_from: 'out of',
	tr_taken_out: '{n} items taken out', tr_taken_out_1: '1 item taken out',
	tr_container: 'container', tr_inside: 'Inside', tr_contents: 'Contents',
	tr_and_more: '({n} in all)', tr_none: 'none',
	tr_shipment: 'shipment', tr_near: 'near', tr_m: 'm',
	tr_region_ip: 'by IP',
	tr_err_not_found: 'No such code: it is not one of this brand\'s ' +
	    'codes, or it is mistyped.',
	tr_err_bad_code: 'That is not a valid code or code URL; check it ' +
	    'and try again.',
});

/* A text that takes a number {n} (key_1: its form for one, if any). */
function tn(key, n) {
	const one = key + '_1';
	return (n === 1 && A.TEXT[A.lang()][one] ? t(one) : t(key))
	    .replace('{n}', fmt(n));
}

/*
 * The code part of what someone pasted or scanned: a compact URL's last
 * segment, else the text as it is (the API reads every code form).
 */
function codeOf(text) {
	const s = String(text).trim();
	const m = s.match(/\/[sS]\/([^/?#\s]+)/);
	return m ? m[1] : s;
}

/* A {serial, url} as a link to its lookup: "#101". */
function link(ref) {
	const label = '#' + ref.serial;
	if (!ref.url)
		return el('span', {}, label);
	return el('a', { class: 'code-link', href: '#/lookup?code=' +
	    encodeURIComponent(codeOf(ref.url)), title: ref.url }, label);
}

/* Links separated by "、" (zh) or ", " (en). */
function refs(list) {
	const out = [];
	list.forEach((r, i) => {
		if (i)
			out.push(A.lang() === 'zh' ? '、' : ', ');
		out.push(link(r));
	});
	return out;
}

/* Lines of pasted or scanned codes: trimmed, blanks dropped, once each. */
function lines(text) {
	const seen = new Set();
	const out = [];
	for (const raw of String(text).split(/\r?\n/)) {
		const s = raw.trim();
		if (s && !seen.has(s)) {
			seen.add(s);
			out.push(s);
		}
	}
	return out;
}

/* Links joined by sep. */
function joined(list, sep) {
	return list.flatMap((r, i) => i ? [sep, link(r)] : [link(r)]);
}

/*
 * The facts rows for containers (innermost first: "#101 → #100") and
 * contents ("装入 2 件：#110、#111"): [label, value] pairs.
 */
function facts(doc) {
	const cont = doc.containers || (doc.parents || []).map((s) =>
	    ({ serial: s }));
	const kids = doc.contents || [];
	const n = doc.children || 0;
	return [[t('tr_inside'), cont.length ? joined(cont, ' → ') :
	    t('tr_none')],
	    [t('tr_contents'), n ? [tn('tr_holds', n), A.lang() === 'zh' ?
	    '：' : ': ', refs(kids), n > kids.length ? ' ' +
	    tn('tr_and_more', n) : ''] : t('tr_none')]];
}

function distributor(e) {
	return e.distributor_name || `#${e.distributor}`;
}

/* A code's own event as words and links; self: the code's serial. */
function eventWords(e, self, urls) {
	const ref = (s) => link({ serial: s, url: urls.get(s) });
	const w = [t(e.step)];
	if (e.step === 'packing' || e.step === 'unpacking') {
		if (e.parent === self)
			w.push(' · ', tn(e.step === 'packing' ? 'tr_holds' :
			    'tr_taken_out', e.children || 0));
		else
			w.push(' · ', t(e.step === 'packing' ? 'tr_packed_into' :
			    'tr_unpacked_from'), ' ', ref(e.parent));
	}
	if (e.shipment !== undefined)
		w.push(' · ', `${t('tr_shipment')} #${e.shipment}`, ' · ',
		    `${t('distributor')} ${distributor(e)}`);
	return w;
}

function scanWords(s) {
	const flags = [t(s.verdict)];
	if (s.first_scan) flags.push(t('first'));
	if (s.bot) flags.push(t('bot'));
	if (s.anonymous) flags.push(t('anonymous'));
	if (s.diversion) flags.push(t('diversion'));
	let w = `${t('scan')} #${s.scan} · ${flags.join(' · ')} · ` +
	    `${t('device')} ${String(s.device || '').slice(0, 6)}`;
	if (s.location)
		w += ` · ${t('tr_near')} ${Number(s.location.lat).toFixed(2)}, ` +
		    `${Number(s.location.lng).toFixed(2)} (±${fmt(s.location.accuracy_m)} ` +
		    `${t('tr_m')})`;
	/* The address's region: a low-confidence guess, said so. */
	const r = s.region, lang = A.lang() === 'zh' ? 'zh-CN' : 'en';
	if (r) {
		const where = [r.country !== 'CN' && r.country_name ?
		    r.country_name[lang] : '', r.province ? r.province[lang] : '',
		    r.city && (!r.province || r.city[lang] !== r.province[lang]) ?
		    r.city[lang] : ''].filter((x) => x).join(' ');
		if (where)
			w += ` · ${where} (${t('tr_region_ip')})`;
	}
	return w;
}

/*
 * The timeline: the code's events, scans, claims and notes, and its
 * containers' own packing, unpacking and shipping (read from their
 * lookups), oldest first. Resolves to [{at, cls, text}].
 */
async function timeline(doc) {
	const urls = new Map();
	for (const r of (doc.containers || []).concat(doc.contents || []))
		urls.set(r.serial, r.url);
	const items = [];
	for (const e of doc.events || [])
		items.push({ at: e.at, cls: e.step === 'decommissioning' ? 'bad' :
		    '', text: eventWords(e, doc.serial, urls) });
	const own = new Set((doc.events || []).map((e) => e.event));
	for (const c of doc.containers || []) {
		if (!c.url)
			continue;
		let up;
		try {
			up = await api('GET', '/api/v1/codes/' +
			    encodeURIComponent(codeOf(c.url)));
		} catch (e) {
			continue;
		}
		for (const r of up.containers || [])
			urls.set(r.serial, r.url);
		for (const e of up.events || []) {
			if (own.has(e.event) || e.parent === c.serial ||
			    e.step === 'commissioning' ||
			    e.step === 'decommissioning')
				continue;
			own.add(e.event);
			items.push({ at: e.at, cls: 'via', text: [t('tr_container'),
			    ' ', link(c), ' · ', eventWords(e, c.serial, urls)] });
		}
	}
	for (const s of doc.scans || [])
		items.push({ at: s.at, cls: s.verdict === 'genuine' ? 'scan' : 'bad',
		    text: scanWords(s) });
	for (const c of doc.claims || [])
		items.push({ at: c.at, cls: 'claim', text: `${t('claim')} · ` +
		    `${t(c.role) || c.role || ''} · ${fmt(c.points)} ${t('points')}` +
		    (c.campaign ? ` · #${c.campaign}` : '') });
	for (const n of doc.notes || [])
		items.push({ at: n.at, cls: 'note', text: `${t('note_' + n.action)} · ` +
		    `${n.by.user !== undefined ? t('by_user') + ' #' + n.by.user :
		    t('by_token') + ' #' + n.by.token} · ${n.reason}` });
	items.sort((a, b) => String(a.at).localeCompare(String(b.at)));
	return items;
}

window.sigilTrace = Object.freeze({ codeOf, link, refs, lines, facts,
    timeline, tn });

})();
