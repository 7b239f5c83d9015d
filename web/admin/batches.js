/*
 * batches.js - the dashboard's batches page (issue 19 items 5 and 8):
 * create a batch of a product picked from the catalog, activate it,
 * revoke it (confirmed in the page), and download its print files in
 * every format the brand API makes: codes.csv, codes.txt, the PDF label
 * sheet (label stock, cut marks, caption) and the PNG or SVG labels in a
 * ZIP archive (DPI, module size, caption). PIN print files are not
 * served (docs/api.md, "PIN print files"): the page says where they come
 * from (`sigil mint --pin` on the packaging line's machine).
 *
 * It keeps the rules of app.js (whose helpers it uses through
 * window.sigilAdmin): server data reaches the page as text only, every
 * change sends the CSRF token (api()), change and download controls are
 * drawn for admins and operators only (the API refuses the rest anyway),
 * every confirmation is in the page, errors are shown by their code in
 * the page's language.
 *
 * The product picker asks GET /api/v1/products?q= (the catalog list);
 * where that is not there (404), the SKU is typed and checked with GET
 * /api/v1/products/{sku} before the batch is asked for.
 */
'use strict';

(function () {

const A = window.sigilAdmin;
if (!A)
	return;
const { el, append, clear, t, api, can, toast, confirmBox, pill, when,
    fmt, table, loading, failure } = A;

Object.assign(A.TEXT.zh, {
	batches: '批次',
	bt_new: '新建批次', bt_product: '产品', bt_search: '搜索产品（SKU 或名称）',
	bt_pick: '选择产品', bt_sku_typed: '产品 SKU', bt_count: '数量',
	bt_lot: '批号（字母、数字、- . _）', bt_expires: '有效期至',
	bt_create: '创建', bt_created: '已创建批次 #', bt_activate: '激活',
	bt_activated: '已激活', bt_revoke: '作废', bt_revoked_ok: '已作废',
	bt_confirm_revoke: '整批作废：此批次中的所有码之后都会显示“已作废”，包括正品，不能领奖。此操作不可撤销。',
	bt_files: '印刷文件', bt_hide: '收起', bt_serials: '序列号',
	bt_state: '状态', bt_active: '已激活', bt_inactive: '未激活',
	bt_revoked: '已作废', bt_scans: '扫码次数', bt_created_at: '创建时间',
	bt_actions: '操作', bt_no_batches: '还没有批次。',
	bt_format: '格式', bt_f_csv: 'CSV（序列号, 网址）— 喷码机/可变数据印刷',
	bt_f_txt: 'TXT（每行一个网址）', bt_f_pdf: 'PDF 标签页（含二维码与说明文字）',
	bt_f_png: 'PNG 标签（ZIP 压缩包，每码一张）',
	bt_f_svg: 'SVG 标签（ZIP 压缩包，矢量，带物理尺寸）',
	bt_stock: '标签规格', bt_cut: '裁切线', bt_caption: '说明文字',
	bt_cap_full: '产品名称、批号、序列号', bt_cap_serial: '仅序列号',
	bt_cap_none: '无', bt_dpi: '分辨率（DPI，72–2400）',
	bt_module: '模块尺寸（毫米，0.1–10）', bt_download: '下载',
	bt_sheet: '整张', bt_single: '单张标签（热敏打印机）',
	bt_bad_dpi: '分辨率须为 72 到 2400 的整数', bt_bad_module: '模块尺寸须为 0.1 到 10 毫米',
	bt_size_note: '每个二维码模块打印为 ',
	bt_pin_note: '刮开密码（暗码）印刷文件不经服务器提供：服务器只保存核对暗码所需的数据。请在包装线电脑上用 ',
	bt_pin_note2: ' 生成（含 PIN 列的 CSV），该文件不要上传或通过邮件发送。',
	bt_more: '更早的批次', bt_f_lot_col: '批号',
	bt_err_gone: '此批次已不存在（可能已被删除或不属于本品牌），请刷新页面。',
	bt_err_wrong_state_dl: '此批次已作废，不能再印刷。',
	bt_err_not_found: '找不到该产品：请先在“产品”页创建，或检查 SKU。',
	bt_err_invalid: '输入有误，请检查：', bt_err_no_key: '品牌没有可用的签名密钥，请联系管理员（sigil key new）。',
	bt_err_wrong_state: '批次当前状态不允许此操作（可能已被他人修改），已刷新。',
	bt_err_forbidden: '当前角色无权执行此操作。',
	bt_err_busy: '服务器正忙（正在生成其他印刷文件），请稍后再试。',
	bt_err_limit: '已达到上限。', bt_err: '操作失败，请稍后重试。',
	bt_no_products: '没有匹配的产品', bt_products_more: '更多产品…',
	bt_f_sku: 'SKU', bt_f_count: '数量', bt_f_lot: '批号', bt_f_expires: '有效期',
});
Object.assign(A.TEXT.en, {
	batches: 'Batches',
	bt_new: 'New batch', bt_product: 'Product',
	bt_search: 'Search products (SKU or name)', bt_pick: 'Pick a product',
	bt_sku_typed: 'Product SKU', bt_count: 'Count',
	bt_lot: 'Lot (letters, digits, - . _)', bt_expires: 'Expires',
	bt_create: 'Create', bt_created: 'Batch created: #',
	bt_activate: 'Activate', bt_activated: 'Activated',
	bt_revoke: 'Revoke', bt_revoked_ok: 'Revoked',
	bt_confirm_revoke: 'The whole batch is revoked: every code in it ' +
	    'shows "revoked" from now on, genuine ones included, and cannot ' +
	    'claim. This cannot be undone.',
	bt_files: 'Print files', bt_hide: 'Hide', bt_serials: 'Serials',
	bt_state: 'State', bt_active: 'Active', bt_inactive: 'Inactive',
	bt_revoked: 'Revoked', bt_scans: 'Scans', bt_created_at: 'Created',
	bt_actions: 'Actions', bt_no_batches: 'No batches yet.',
	bt_format: 'Format',
	bt_f_csv: 'CSV (serial, URL) for variable-data printers',
	bt_f_txt: 'TXT (one URL a line)',
	bt_f_pdf: 'PDF label sheets (QR code and caption)',
	bt_f_png: 'PNG labels (ZIP archive, one a code)',
	bt_f_svg: 'SVG labels (ZIP archive, vector, printed size)',
	bt_stock: 'Label stock', bt_cut: 'Cut marks', bt_caption: 'Caption',
	bt_cap_full: 'Product name, lot, serial', bt_cap_serial: 'Serial only',
	bt_cap_none: 'None', bt_dpi: 'Resolution (DPI, 72–2400)',
	bt_module: 'Module size (mm, 0.1–10)', bt_download: 'Download',
	bt_sheet: 'sheet', bt_single: 'single label (thermal printer)',
	bt_bad_dpi: 'The resolution must be a whole number from 72 to 2400',
	bt_bad_module: 'The module size must be 0.1 to 10 mm',
	bt_size_note: 'Each QR module prints ',
	bt_pin_note: 'Hidden-PIN print files are not served by the server: ' +
	    'it keeps only what it needs to check PINs. Make them on the ' +
	    'packaging line\'s machine with ',
	bt_pin_note2: ' (a CSV with a PIN column); do not upload or e-mail ' +
	    'that file.',
	bt_more: 'Older batches', bt_f_lot_col: 'Lot',
	bt_err_gone: 'This batch is not there any more; reload the page.',
	bt_err_wrong_state_dl: 'This batch is revoked: it cannot be printed.',
	bt_err_not_found: 'No such product: create it on the products page ' +
	    'first, or check the SKU.',
	bt_err_invalid: 'Please check: ', bt_err_no_key: 'The brand has no ' +
	    'valid signing key; ask an administrator (sigil key new).',
	bt_err_wrong_state: 'The batch is not in a state that allows this ' +
	    '(someone may have changed it); the list is reloaded.',
	bt_err_forbidden: 'Your role may not do this.',
	bt_err_busy: 'The server is busy making other print files; try ' +
	    'again in a moment.',
	bt_err_limit: 'A limit was reached.',
	bt_err: 'That did not work; try again later.',
	bt_no_products: 'No matching products', bt_products_more: 'More products…',
	bt_f_sku: 'SKU', bt_f_count: 'count', bt_f_lot: 'lot',
	bt_f_expires: 'expiry date',
});

/*
 * An API error as a line in the page's language (app.js's errText, with
 * this page's texts first); a refused field is named in the page's
 * words.
 */
function errText(e) {
	if (e && (e.code === 'busy' || e.code === 'unavailable'))
		return t('bt_err_busy');
	if (e && e.code === 'invalid') {
		const m = /'(\w+)'/.exec(e.message || '') ||
		    /^(\w+) /.exec(e.message || '') || [];
		const field = e.field || m[1];
		return t('bt_err_invalid') + (field && A.TEXT.zh['bt_f_' + field] ?
		    t('bt_f_' + field) : '');
	}
	return A.errText(e, 'bt_err_');
}

const PAGE = 50;	/* batches a page */

const FILES = [
	{ file: 'codes.csv', text: 'bt_f_csv', opts: [] },
	{ file: 'codes.txt', text: 'bt_f_txt', opts: [] },
	{ file: 'labels.pdf', text: 'bt_f_pdf', opts: ['stock', 'cut', 'caption'] },
	{ file: 'labels-png.zip', text: 'bt_f_png',
	  opts: ['caption', 'dpi', 'module'] },
	{ file: 'labels-svg.zip', text: 'bt_f_svg', opts: ['caption', 'module'] },
];

let stocks = null;	/* GET /api/v1/label-stocks, once */

async function loadStocks() {
	if (!stocks) {
		try {
			stocks = (await api('GET', '/api/v1/label-stocks')).stocks;
		} catch (e) {
			stocks = [];
		}
	}
	return stocks;
}

/*
 * The download panel of one batch: a format, its options, and a link
 * whose address carries them (a plain GET: the browser saves the
 * stream as it comes, the session cookie authenticates it).
 */
function downloadPanel(b) {
	const format = el('select', { id: `bt-format-${b.id}`, class: 'bt-format' },
	    FILES.map((f) => el('option', { value: f.file }, t(f.text))));
	const stock = el('select', { id: `bt-stock-${b.id}` },
	    (stocks || []).map((s) => el('option', { value: s.name },
	    `${s.name} · ${s.sheet ? t('bt_sheet') : t('bt_single')} · ` +
	    `${s.cols}×${s.rows}, ${s.label_w_mm.toFixed(1)}×` +
	    `${s.label_h_mm.toFixed(1)} mm`)));
	const cut = el('input', { type: 'checkbox', id: `bt-cut-${b.id}` });
	const caption = el('select', { id: `bt-caption-${b.id}` },
	    ['full', 'serial', 'none'].map((c) => el('option', { value: c },
	    t('bt_cap_' + c))));
	const dpi = el('input', { type: 'number', id: `bt-dpi-${b.id}`, min: 72,
	    max: 2400, step: 1, value: 300 });
	const module = el('input', { type: 'number', id: `bt-module-${b.id}`,
	    min: 0.1, max: 10, step: 0.05, value: 0.5 });
	const rows = {
		stock: el('label', {}, t('bt_stock'), stock),
		cut: el('label', { class: 'inline' }, cut, ' ', t('bt_cut')),
		caption: el('label', {}, t('bt_caption'), caption),
		dpi: el('label', {}, t('bt_dpi'), dpi),
		module: el('label', {}, t('bt_module'), module),
	};
	const msg = el('div', { class: 'notice error', hidden: true });
	const note = el('p', { class: 'muted' });
	const link = el('a', { class: 'button primary', id: `bt-download-${b.id}` },
	    t('bt_download'));
	const update = () => {
		const f = FILES.find((x) => x.file === format.value);
		for (const [k, row] of Object.entries(rows))
			row.hidden = !f.opts.includes(k);
		const q = new URLSearchParams();
		let bad = '';
		if (f.opts.includes('stock') && stock.value)
			q.set('stock', stock.value);
		if (f.opts.includes('cut') && cut.checked)
			q.set('cut_marks', '1');
		if (f.opts.includes('caption') && caption.value !== 'full')
			q.set('caption', caption.value);
		const d = Number(dpi.value), m = Number(module.value);
		if (f.opts.includes('dpi')) {
			if (!Number.isInteger(d) || d < 72 || d > 2400)
				bad = t('bt_bad_dpi');
			q.set('dpi', String(d));
		}
		if (f.opts.includes('module')) {
			if (!(m >= 0.1 && m <= 10))
				bad = bad || t('bt_bad_module');
			q.set('module', String(m));
		}
		note.textContent = '';
		if (!bad && f.opts.includes('dpi')) {
			const px = Math.max(1, Math.round(m * d / 25.4));
			note.textContent = `${t('bt_size_note')}${(px * 25.4 / d)
			    .toFixed(3)} mm (${px} px @ ${d} dpi)`;
		} else if (!bad && f.opts.includes('module'))
			note.textContent = `${t('bt_size_note')}${m} mm`;
		msg.textContent = bad;
		msg.hidden = !bad;
		const qs = q.toString();
		if (bad) {
			link.removeAttribute('href');
			link.setAttribute('aria-disabled', 'true');
		} else {
			link.href = `/api/v1/batches/${b.id}/${f.file}` +
			    (qs ? '?' + qs : '');
			link.removeAttribute('aria-disabled');
		}
		link.download = `batch-${b.id}` + (f.file === 'codes.csv' ? '.csv' :
		    f.file === 'codes.txt' ? '.txt' : '-' + f.file);
	};
	/*
	 * Before the browser saves the stream, HEAD of the same address: a
	 * refusal (busy, signed out, the batch gone) is said here instead of
	 * saved as the file. Then the link is followed for real.
	 */
	let passing = false;
	link.addEventListener('click', async (ev) => {
		if (passing) {
			passing = false;
			return;
		}
		ev.preventDefault();
		if (!link.href)
			return;
		msg.hidden = true;
		let r;
		try {
			r = await fetch(link.href, { method: 'HEAD',
			    credentials: 'same-origin' });
		} catch (e) {
			msg.textContent = errText(e);
			msg.hidden = false;
			return;
		}
		if (r.ok) {
			passing = true;
			link.click();
			return;
		}
		const code = { 401: 'unauthorized', 403: 'forbidden',
		    404: 'not_found', 409: 'wrong_state', 422: 'invalid',
		    503: 'busy' }[r.status];
		msg.textContent = code === 'not_found' ? t('bt_err_gone') :
		    code === 'wrong_state' ? t('bt_err_wrong_state_dl') :
		    errText(new A.ApiError(r.status, code, ''));
		msg.hidden = false;
		if (r.status === 401)
			A.route();
	});
	for (const c of [format, stock, cut, caption, dpi, module]) {
		c.addEventListener('change', update);
		c.addEventListener('input', update);
	}
	update();
	return el('div', { class: 'card bt-panel', id: `bt-panel-${b.id}` },
	    el('h3', {}, `${t('bt_files')} · #${b.id} · ${b.sku}` +
	    (b.lot ? ` · ${b.lot}` : '')),
	    el('div', { class: 'stack' }, el('label', {}, t('bt_format'), format),
	    rows.stock, rows.cut, rows.caption, rows.dpi, rows.module),
	    msg, note, el('div', { class: 'actions' }, link),
	    el('p', { class: 'muted bt-pin' }, t('bt_pin_note'),
	    el('code', {}, `sigil mint --batch ${b.id} --format csv --pin ` +
	    `--out batch-${b.id}-pin.csv`), t('bt_pin_note2')));
}

/*
 * The product picker: a search over GET /api/v1/products?q= into a
 * select, with "more" while the server has a next page; without that
 * endpoint, a typed SKU.
 */
async function productPicker(sku) {
	const q = el('input', { id: 'bt-product-q', type: 'search',
	    placeholder: t('bt_search'), autocomplete: 'off' });
	const sel = el('select', { id: 'bt-product', name: 'sku', required: true });
	const more = el('button', { type: 'button', class: 'ghost', hidden: true,
	    id: 'bt-product-more' }, t('bt_products_more'));
	let next = null, gen = 0;
	const fill = async (append_) => {
		const mine = ++gen;
		const p = new URLSearchParams({ limit: '100' });
		if (q.value.trim())
			p.set('q', q.value.trim());
		if (append_ && next)
			p.set('after', next);
		const r = await api('GET', '/api/v1/products?' + p);
		if (mine !== gen)
			return;
		if (!append_)
			clear(sel);
		for (const pr of r.products)
			sel.appendChild(el('option', { value: pr.sku },
			    `${pr.sku} · ${pr.name}`));
		if (!sel.options.length)
			sel.appendChild(el('option', { value: '', disabled: true },
			    t('bt_no_products')));
		next = r.next || null;
		more.hidden = !next;
	};
	if (sku)
		q.value = sku;	/* #/batches?sku=: that product, picked */
	try {
		await fill(false);
		if (sku && [...sel.options].some((o) => o.value === sku))
			sel.value = sku;
	} catch (e) {
		if (!(e.status === 404 || e.status === 405))
			throw e;
		/* No catalog list on this server: type the SKU. */
		const typed = el('input', { id: 'bt-sku', name: 'sku', required: true,
		    maxlength: 64, autocomplete: 'off', value: sku || null });
		return {
			node: el('label', {}, t('bt_sku_typed'), typed),
			value: async () => {
				const sku = typed.value.trim();
				await api('GET', '/api/v1/products/' +
				    encodeURIComponent(sku));
				return sku;
			},
		};
	}
	let timer = null;
	q.addEventListener('input', () => {
		clearTimeout(timer);
		timer = setTimeout(() => fill(false).catch(() => {}), 250);
	});
	more.addEventListener('click', () => fill(true).catch(() => {}));
	return {
		node: el('label', {}, t('bt_product'), q, sel, more),
		value: async () => sel.value,
	};
}

async function createForm(box, reload, sku) {
	const picker = await productPicker(sku);
	const f = {
		count: el('input', { name: 'count', id: 'bt-count', type: 'number',
		    min: 1, required: true, value: 1000 }),
		lot: el('input', { name: 'lot', id: 'bt-lot', maxlength: 20 }),
		expires: el('input', { name: 'expires', id: 'bt-expires',
		    type: 'date' }),
	};
	const msg = el('div', { class: 'notice error', hidden: true,
	    id: 'bt-error' });
	const form = el('form', { class: 'stack', id: 'batch-form' },
	    picker.node,
	    el('label', {}, t('bt_count'), f.count),
	    el('label', {}, t('bt_lot'), f.lot),
	    el('label', {}, t('bt_expires'), f.expires),
	    el('div', { class: 'actions' }, el('button', { type: 'submit',
	    class: 'primary' }, t('bt_create'))));
	form.addEventListener('submit', async (ev) => {
		ev.preventDefault();
		msg.hidden = true;
		try {
			const req = { sku: await picker.value(),
			    count: Number(f.count.value) };
			if (f.lot.value.trim())
				req.lot = f.lot.value.trim();
			if (f.expires.value)
				req.expires = f.expires.value;
			const b = await api('POST', '/api/v1/batches', req);
			toast(t('bt_created') + b.id);
			reload(b.id);
		} catch (e) {
			msg.textContent = errText(e);
			msg.hidden = false;
		}
	});
	box.appendChild(el('div', { class: 'card' }, el('h2', {}, t('bt_new')),
	    msg, form));
}

async function batches(box, params) {
	const head = el('div', { class: 'toolbar' }, el('h1', {}, t('batches')),
	    el('span', { class: 'spacer' }));
	const formBox = el('div', {});
	const body = el('div', { class: 'card' });
	const panelBox = el('div', { id: 'bt-panels' });
	append(box, [head, formBox, panelBox, body]);
	const open = new Set((params && params.get('open') ?
	    params.get('open').split(',') : []).map(Number));
	const reload = (id) => {
		if (id)
			open.add(id);
		const q = open.size ? '?open=' + [...open].join(',') : '';
		if (location.hash === '#/batches' + q)
			A.route();
		else
			location.hash = '#/batches' + q;
	};
	if (can.operate()) {
		try {
			await createForm(formBox, reload, params && params.get('sku'));
		} catch (e) {
			failure(formBox, e, () => reload());
		}
		await loadStocks();
	}
	loading(body);
	/*
	 * Newest first, PAGE at a time, "more" for the next page (GET
	 * /api/v1/batches?order=newest&before=); a server whose list does
	 * not page (no "next" in the answer) gives every batch at once,
	 * oldest first.
	 */
	let shown = [], next = null, stats;
	const fetchPage = async () => {
		const q = new URLSearchParams({ order: 'newest',
		    limit: String(PAGE) });
		if (next !== null)
			q.set('before', String(next));
		const r = await api('GET', '/api/v1/batches?' + q);
		const got = r.batches || [];
		if (!('next' in r)) {
			next = null;
			return got.slice().reverse();
		}
		next = r.next;
		return got;
	};
	try {
		[shown, stats] = await Promise.all([fetchPage(),
		    api('GET', '/api/v1/stats/batches?limit=1000&' +
		    A.rangeQuery('day', 365)).catch(() => ({ batches: [] }))]);
	} catch (e) {
		failure(body, e, () => reload());
		return;
	}
	const byId = new Map((stats.batches || []).map((s) => [s.batch, s]));
	const act = (b, what) => async () => {
		if (what === 'revoke' && !await confirmBox(t('bt_revoke'),
		    el('p', {}, `#${b.id} · ${b.sku}${b.lot ? ' · ' + b.lot : ''}` +
		    ` · ${fmt(b.count)}: ${t('bt_confirm_revoke')}`)))
			return;
		try {
			await api('POST', `/api/v1/batches/${b.id}/${what}`, {});
			toast(t(what === 'revoke' ? 'bt_revoked_ok' : 'bt_activated'));
			reload();
		} catch (e) {
			toast(errText(e), true);
			if (e.code === 'wrong_state')
				reload();
		}
	};
	const KIND = { active: 'ok', revoked: 'bad', inactive: 'warn' };
	const more = el('button', { type: 'button', id: 'bt-more',
	    class: 'ghost' }, t('bt_more'));
	const render = () => {
		append(clear(body), [table([
		    { label: '#', key: 'id' },
		    { label: 'SKU', key: 'sku' },
		    { label: t('bt_f_lot_col'), key: 'lot' },
		    { label: t('bt_count'), key: 'count', num: true },
		    { label: t('bt_serials'), render: (b) =>
		      `${b.first_serial}–${b.first_serial + b.count - 1}` },
		    { label: t('bt_state'), render: (b) => pill(t('bt_' + b.state),
		      KIND[b.state] || '') },
		    { label: t('bt_scans'), num: true, render: (b) =>
		      fmt((byId.get(b.id) || {}).scans || 0) },
		    { label: t('bt_created_at'), render: (b) => when(b.created) },
		    { label: t('bt_actions'), render: (b) => can.operate() ? [
		      b.state === 'inactive' ? el('button', { type: 'button',
		        class: 'bt-activate', on: { click: act(b, 'activate') } },
		        t('bt_activate')) : null, ' ',
		      b.state !== 'revoked' ? el('button', { type: 'button',
		        class: 'bt-files', on: { click: () => toggle(b) } },
		        open.has(b.id) ? t('bt_hide') : t('bt_files')) : null, ' ',
		      b.state !== 'revoked' ? el('button', { type: 'button',
		        class: 'bt-revoke danger', on: { click: act(b, 'revoke') } },
		        t('bt_revoke')) : null] : '' },
		], shown, t('bt_no_batches')), next !== null ?
		    el('div', { class: 'actions' }, more) : null]);
		clear(panelBox);
		if (can.operate())
			for (const b of shown)
				if (open.has(b.id) && b.state !== 'revoked')
					panelBox.appendChild(downloadPanel(b));
	};
	/* A panel opens above the list, where the page scrolls to. */
	const toggle = (b) => {
		if (open.has(b.id))
			open.delete(b.id);
		else
			open.add(b.id);
		render();
		const p = document.getElementById(`bt-panel-${b.id}`);
		if (p)
			p.scrollIntoView({ block: 'nearest' });
	};
	more.addEventListener('click', async () => {
		more.disabled = true;
		try {
			shown = shown.concat(await fetchPage());
			render();
		} catch (e) {
			toast(errText(e), true);
		}
		more.disabled = false;
	});
	render();
}

A.registerPage('batches', 'customers', batches, { group: 'production' });

})();
