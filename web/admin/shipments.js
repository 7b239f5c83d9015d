/*
 * shipments.js - the dashboard's shipments and aggregation page (issue 19
 * item 5): the brand's shipments newest first, paged by the server and
 * filtered by distributor and status (GET /api/v1/shipments); shipping
 * codes to a distributor (POST /api/v1/shipments: codes pasted or scanned
 * one a line, URLs as the lookup page takes them); receiving a shipment;
 * packing items into a case or cases into a pallet (POST
 * /api/v1/aggregations) and unpacking (POST /api/v1/aggregations/unpack),
 * each answered in words with links to the codes' lookups.
 *
 * When the server refuses a list of codes as a whole (one of them is not
 * the brand's, or not a code), the page finds which lines by looking each
 * up, and names them.
 *
 * It keeps the rules of app.js (window.sigilAdmin): text only, the CSRF
 * token on every change (api()), change controls for operators and
 * admins only, confirmations in the page, errors by code in the page's
 * language.
 */
'use strict';

(function () {

const A = window.sigilAdmin;
const T = window.sigilTrace;
if (!A || !T)
	return;
const { el, append, clear, t, api, can, toast, confirmBox, pill, when,
    fmt, table, loading } = A;

Object.assign(A.TEXT.zh, {
	shipments: '发货与装箱', sh_list: '发货单', sh_all_dist: '全部经销商',
	sh_all_status: '全部状态', sh_open: '在途', sh_received: '已收货',
	sh_codes: '码数（含箱内）', sh_shipped_at: '发货时间',
	sh_received_at: '收货时间', sh_receive: '确认收货',
	sh_confirm_receive: '确认此发货单已由经销商收货？收货会记入每个码的溯源。',
	sh_more: '更早的发货单', sh_new: '发货', sh_to: '发往经销商',
	sh_pick_dist: '请选择经销商', sh_lines: '码或链接（每行一个，可用扫码枪逐个扫入）',
	sh_line_count: '行数', sh_ship: '发货', sh_shipped: '已发货',
	sh_shipped_n: (id, n, d) => `发货单 #${id}：${n} 个码（含箱内）已发往 ${d}。`,
	sh_received_ok: '已确认收货', sh_none: '还没有发货单。',
	sh_no_dist: '还没有经销商。请先在“经销商”页面添加。',
	ag_title: '装箱 / 拆箱', ag_parent: '箱码或托盘码（上级包装）',
	ag_children: '装入的码（每行一个；拆箱时留空表示全部取出）',
	ag_pack: '装箱', ag_unpack: '拆箱',
	ag_packed: (n) => `已将 ${n} 件装入 `, ag_now: '。现内含：',
	ag_unpacked: (n) => `已取出 ${n} 件，上级包装：`,
	ag_confirm_unpack_all: '将取出此包装内的全部码。确定吗？',
	sh_err_not_found: '有码不属于本品牌或不存在，或经销商不存在。',
	sh_err_bad_code: '有一行不是有效的码或码链接。',
	sh_err_invalid: '输入有误：请至少填写一个码，且不要重复。',
	ag_err_invalid: '输入有误：码不能重复，不能把包装装进它自己或它的内部。',
	sh_err_already_packed: '有码已在其他包装内，请先拆箱再装。',
	sh_err_sscc_range: '此上级包装码的序列号超出 SSCC 的范围（品牌的 GS1 厂商识别代码）。',
	sh_err_wrong_state: '此发货单已经确认收货。',
	sh_err_forbidden: '只有操作员或管理员可以发货、收货和装箱。',
	sh_err_too_large: '一次最多 100,000 个码。',
	sh_err_rate_limited: '操作太频繁，请稍后再试。',
	sh_err_line: (i, what) => `第 ${i} 行（${what}）：`,
	sh_err_load: '发货单加载失败。', sh_checking: '正在逐行检查…',
});
Object.assign(A.TEXT.en, {
	shipments: 'Shipments & packing', sh_list: 'Shipments',
	sh_all_dist: 'All distributors', sh_all_status: 'All statuses',
	sh_open: 'In transit', sh_received: 'Received',
	sh_codes: 'Codes (contents included)', sh_shipped_at: 'Shipped',
	sh_received_at: 'Received', sh_receive: 'Mark received',
	sh_confirm_receive: 'Mark this shipment as received by the ' +
	    'distributor? The receipt goes into every code\'s trace.',
	sh_more: 'Older shipments', sh_new: 'Ship', sh_to: 'To distributor',
	sh_pick_dist: 'Choose a distributor',
	sh_lines: 'Codes or URLs (one a line; a scanner can type them in)',
	sh_line_count: 'Lines', sh_ship: 'Ship', sh_shipped: 'Shipped',
	sh_shipped_n: (id, n, d) => `Shipment #${id}: ${n} codes (contents ` +
	    `included) shipped to ${d}.`,
	sh_received_ok: 'Marked received', sh_none: 'No shipments yet.',
	sh_no_dist: 'No distributors yet. Add one on the distributors page ' +
	    'first.',
	ag_title: 'Pack / unpack', ag_parent: 'Case or pallet code (the container)',
	ag_children: 'Codes to pack (one a line; to unpack everything, leave ' +
	    'empty)',
	ag_pack: 'Pack', ag_unpack: 'Unpack',
	ag_packed: (n) => `Packed ${n} into `, ag_now: '. Now inside: ',
	ag_unpacked: (n) => `Took ${n} out of `,
	ag_confirm_unpack_all: 'Every code inside this container will be ' +
	    'taken out. Go ahead?',
	sh_err_not_found: 'A code is not this brand\'s or does not exist, or ' +
	    'the distributor does not.',
	sh_err_bad_code: 'A line is not a valid code or code URL.',
	sh_err_invalid: 'Check the input: at least one code, none twice.',
	ag_err_invalid: 'Check the input: no code twice, and a container ' +
	    'cannot go into itself or into something inside it.',
	sh_err_already_packed: 'A code is already inside another container; ' +
	    'unpack it first.',
	sh_err_sscc_range: 'The container\'s serial does not fit an SSCC ' +
	    'under the brand\'s GS1 company prefix.',
	sh_err_wrong_state: 'This shipment is already received.',
	sh_err_forbidden: 'Only operators and admins may ship, receive and ' +
	    'pack.',
	sh_err_too_large: 'At most 100,000 codes at a time.',
	sh_err_rate_limited: 'Too many requests; try again shortly.',
	sh_err_line: (i, what) => `Line ${i} (${what}): `,
	sh_err_load: 'The shipments could not be loaded.',
	sh_checking: 'Checking line by line…',
});

function tx(key, ...args) {
	const v = A.TEXT[A.lang()][key] || A.TEXT.en[key];
	return typeof v === 'function' ? v(...args) : v;
}

function errText(e, prefix) {
	const code = e && e.code;
	for (const p of [prefix, 'sh'])
		if (p && A.TEXT[A.lang()][`${p}_err_${code}`])
			return t(`${p}_err_${code}`);
	return A.errText(e);
}

/*
 * After the server refused a list as a whole: each line looked up (at
 * most 200), the refused ones named. Resolves to DOM nodes or null.
 */
async function badLines(list, note) {
	note.textContent = t('sh_checking');
	const out = [];
	for (let i = 0; i < list.length && i < 200 && out.length < 10; i++) {
		try {
			await api('GET', '/api/v1/codes/' +
			    encodeURIComponent(T.codeOf(list[i])));
		} catch (e) {
			if (e.code === 'not_found' || e.code === 'bad_code')
				out.push(el('li', {}, tx('sh_err_line', i + 1, list[i]),
				    t('tr_err_' + e.code)));
		}
	}
	note.textContent = '';
	return out.length ? el('ul', { class: 'sh-bad-lines' }, out) : null;
}

/* A textarea of codes and its live line count. */
function codesBox(id, label) {
	const area = el('textarea', { id, 'aria-label': label,
	    placeholder: 'https://…/S/…' });
	area.rows = 6;
	const count = el('span', { class: 'muted' }, `${t('sh_line_count')} 0`);
	area.addEventListener('input', () => {
		count.textContent = `${t('sh_line_count')} ${fmt(T.lines(area.value).length)}`;
	});
	return { area, count };
}

async function allDistributors() {
	const out = [];
	let after = null;
	do {
		const r = await api('GET', '/api/v1/distributors?limit=1000' +
		    (after ? '&after=' + after : ''));
		out.push(...r.distributors);
		after = r.next;
	} while (after !== null && after !== undefined);
	return out;
}

function shipForm(dists, onDone) {
	const dist = el('select', { id: 'sh-dist', required: true,
	    'aria-label': t('sh_to') },
	    el('option', { value: '' }, t('sh_pick_dist')),
	    dists.map((d) => el('option', { value: d.id }, d.name)));
	const codes = codesBox('sh-codes', t('sh_lines'));
	const msg = el('div', { class: 'notice', id: 'sh-result', hidden: true });
	const btn = el('button', { type: 'submit', class: 'primary', id: 'sh-ship' },
	    t('sh_ship'));
	const form = el('form', { class: 'stack', id: 'sh-form' },
	    el('label', {}, t('sh_to'), dist),
	    el('label', { class: 'wide' }, t('sh_lines'), codes.area),
	    el('div', { class: 'actions wide' }, codes.count, ' ', btn));
	const show = (cls, ...nodes) => {
		msg.className = 'notice ' + cls;
		append(clear(msg), nodes);
		msg.hidden = false;
	};
	form.addEventListener('submit', async (ev) => {
		ev.preventDefault();
		const list = T.lines(codes.area.value);
		if (!dist.value)
			return show('error', t('sh_pick_dist'));
		if (!list.length)
			return show('error', t('sh_err_invalid'));
		btn.disabled = true;
		try {
			const s = await api('POST', '/api/v1/shipments',
			    { distributor: Number(dist.value), codes: list });
			const d = dists.find((x) => x.id === s.distributor);
			show('ok', tx('sh_shipped_n', s.id, fmt(s.codes),
			    d ? d.name : '#' + s.distributor));
			codes.area.value = '';
			codes.count.textContent = `${t('sh_line_count')} 0`;
			onDone();
		} catch (e) {
			show('error', errText(e));
			if (e.code === 'not_found' || e.code === 'bad_code') {
				const bad = await badLines(list, msg.appendChild(
				    el('span', { class: 'muted' })));
				if (bad)
					msg.appendChild(bad);
			}
		} finally {
			btn.disabled = false;
		}
	});
	return el('div', { class: 'card' }, el('h2', {}, t('sh_new')), msg, form);
}

function packForm() {
	const parent = el('input', { id: 'ag-parent', size: 40,
	    'aria-label': t('ag_parent') });
	const kids = codesBox('ag-children', t('ag_children'));
	const msg = el('div', { class: 'notice', id: 'ag-result', hidden: true });
	const pack = el('button', { type: 'submit', class: 'primary',
	    id: 'ag-pack' }, t('ag_pack'));
	const unpack = el('button', { type: 'button', id: 'ag-unpack' },
	    t('ag_unpack'));
	const form = el('form', { class: 'stack', id: 'ag-form' },
	    el('label', { class: 'wide' }, t('ag_parent'), parent),
	    el('label', { class: 'wide' }, t('ag_children'), kids.area),
	    el('div', { class: 'actions wide' }, kids.count, ' ', pack, ' ', unpack));
	const show = (cls, ...nodes) => {
		msg.className = 'notice ' + cls;
		append(clear(msg), nodes);
		msg.hidden = false;
	};
	const parentLink = () => {
		const c = T.codeOf(parent.value);
		return el('a', { class: 'code-link', href: '#/lookup?code=' +
		    encodeURIComponent(c) }, c.length > 16 ? c.slice(0, 16) + '…' : c);
	};
	const run = async (mode) => {
		const list = T.lines(kids.area.value);
		if (!parent.value.trim() || (mode === 'pack' && !list.length))
			return show('error', t('sh_err_invalid'));
		if (mode === 'unpack' && !list.length &&
		    !await confirmBox(t('ag_unpack'), el('p', {},
		    t('ag_confirm_unpack_all'))))
			return;
		const body = { parent: parent.value.trim() };
		if (list.length)
			body.children = list;
		/* Unpacking everything: the answer counts none, the lookup does. */
		let had = null;
		if (mode === 'unpack' && !list.length)
			had = await api('GET', '/api/v1/codes/' + encodeURIComponent(
			    T.codeOf(parent.value))).then((d) => d.children, () => null);
		pack.disabled = unpack.disabled = true;
		try {
			const r = await api('POST', mode === 'pack' ?
			    '/api/v1/aggregations' : '/api/v1/aggregations/unpack', body);
			if (mode === 'pack') {
				/* The container's lookup names what went in, linked. */
				let doc = null;
				try {
					doc = await api('GET', '/api/v1/codes/' +
					    encodeURIComponent(T.codeOf(parent.value)));
				} catch (e) {
					doc = null;
				}
				show('ok', tx('ag_packed', fmt(r.children)), parentLink(),
				    doc ? [t('ag_now'), T.refs(doc.contents || [])] : '');
			} else
				show('ok', tx('ag_unpacked', fmt(had !== null ? had :
				    r.children)), parentLink());
			kids.area.value = '';
			kids.count.textContent = `${t('sh_line_count')} 0`;
		} catch (e) {
			show('error', errText(e, 'ag'));
			if (e.code === 'not_found' || e.code === 'bad_code') {
				const bad = await badLines([parent.value.trim()].concat(list),
				    msg.appendChild(el('span', { class: 'muted' })));
				if (bad)
					msg.appendChild(bad);
			}
		} finally {
			pack.disabled = unpack.disabled = false;
		}
	};
	form.addEventListener('submit', (ev) => {
		ev.preventDefault();
		run('pack');
	});
	unpack.addEventListener('click', () => run('unpack'));
	return el('div', { class: 'card' }, el('h2', {}, t('ag_title')), msg, form);
}

async function shipmentsPage(box, params) {
	const distSel = el('select', { id: 'sh-filter-dist',
	    'aria-label': t('distributor') },
	    el('option', { value: '' }, t('sh_all_dist')));
	const statusSel = el('select', { id: 'sh-filter-status',
	    'aria-label': t('state') },
	    el('option', { value: '' }, t('sh_all_status')),
	    el('option', { value: 'open' }, t('sh_open')),
	    el('option', { value: 'received' }, t('sh_received')));
	append(box, [el('div', { class: 'toolbar' }, el('h1', {}, t('shipments')),
	    el('span', { class: 'spacer' }), distSel, statusSel)]);
	const forms = el('div', { class: 'grid two' });
	const list = el('div', { class: 'card', id: 'sh-list' });
	append(box, [forms, list]);
	loading(list);
	let dists;
	try {
		dists = await allDistributors();
	} catch (e) {
		append(clear(list), [el('div', { class: 'notice error' },
		    t('sh_err_load'), ' ', errText(e))]);
		return;
	}
	for (const d of dists)
		distSel.appendChild(el('option', { value: d.id,
		    selected: params.get('distributor') === String(d.id) }, d.name));
	statusSel.value = ['open', 'received'].includes(params.get('status')) ?
	    params.get('status') : '';

	let rows = [], next = null, gen = 0;
	const receive = async (s) => {
		if (!await confirmBox(`${t('sh_receive')} #${s.id}`, el('p', {},
		    `#${s.id} · ${s.distributor_name || '#' + s.distributor} · ` +
		    `${fmt(s.codes)}: ${t('sh_confirm_receive')}`)))
			return;
		try {
			await api('POST', `/api/v1/shipments/${s.id}/receive`, {});
			toast(t('sh_received_ok'));
			load();
		} catch (e) {
			toast(errText(e), true);
		}
	};
	const more = el('button', { type: 'button', id: 'sh-more' }, t('sh_more'));
	const draw = () => {
		append(clear(list), [el('h2', {}, t('sh_list')), table([
		    { label: '#', key: 'id' },
		    { label: t('distributor'), render: (s) => s.distributor_name ||
		      '#' + s.distributor },
		    { label: t('sh_codes'), key: 'codes', num: true },
		    { label: t('sh_shipped_at'), render: (s) => when(s.shipped_at) },
		    { label: t('state'), render: (s) => s.received_at ?
		      [pill(t('sh_received'), 'ok'), el('span', { class: 'sub' },
		      when(s.received_at))] : pill(t('sh_open'), 'warn') },
		    { label: t('actions'), render: (s) => can.operate() &&
		      !s.received_at ? el('button', { type: 'button',
		      class: 'sh-receive', on: { click: () => receive(s) } },
		      t('sh_receive')) : '' },
		], rows, t('sh_none')), next !== null ? more : null]);
	};
	const page = async () => {
		const mine = gen;
		const q = new URLSearchParams({ limit: '50' });
		if (distSel.value)
			q.set('distributor', distSel.value);
		if (statusSel.value)
			q.set('status', statusSel.value);
		if (next !== null)
			q.set('before', String(next));
		try {
			const r = await api('GET', '/api/v1/shipments?' + q);
			if (mine !== gen)
				return;
			rows = rows.concat(r.shipments);
			next = r.next;
			draw();
		} catch (e) {
			if (mine === gen)
				append(clear(list), [el('div', { class: 'notice error' },
				    t('sh_err_load'), ' ', errText(e))]);
		}
	};
	const load = () => {
		gen++;
		rows = [];
		next = null;
		loading(list);
		return page();
	};
	more.addEventListener('click', page);
	distSel.addEventListener('change', load);
	statusSel.addEventListener('change', load);
	if (can.operate()) {
		forms.appendChild(dists.length ? shipForm(dists, load) :
		    el('div', { class: 'card' }, el('h2', {}, t('sh_new')),
		    el('p', { class: 'muted' }, t('sh_no_dist'))));
		forms.appendChild(packForm());
	}
	await load();
}

A.registerPage('shipments', 'lookup', shipmentsPage, { group: 'trace' });

})();
