/*
 * products.js - the dashboard's products page (issue 19 item 5): the
 * brand's products, paged by the server in SKU order and searched by SKU
 * or name (GET /api/v1/products?q=); a new product (admin: SKU, name,
 * GTIN checked here as GS1 asks before the server checks it again, the
 * scanner threshold, the code form); a product's change (admin: name and
 * scanner threshold, PATCH /api/v1/products/{sku}); and, per product,
 * its batches (GET /api/v1/batches?sku=, paged), a link to its content
 * in the editor and, with a GTIN, its GS1 Digital Link.
 *
 * It keeps the rules of app.js (whose helpers it uses through
 * window.sigilAdmin): server data reaches the page as text only, every
 * change sends the CSRF token (api()), change controls are drawn for
 * admins only (the API refuses the rest anyway), every confirmation and
 * form is in the page, and an error is shown by its code in the page's
 * language, never as the server's English.
 */
'use strict';

(function () {

const A = window.sigilAdmin;
if (!A)
	return;
const { el, append, clear, t, api, can, toast, confirmBox, pill, when,
    fmt, table, loading } = A;

Object.assign(A.TEXT.zh, {
	products: '产品', pr_search: '按 SKU 或名称搜索', pr_new: '新建产品',
	pr_gtin: 'GTIN（可选，8/12/13/14 位）', pr_max: '同一码最多扫码人数',
	pr_max_note: '超过此人数的不同设备扫同一个码，即判为可疑（疑似复制）。',
	pr_gs1: '印刷 GS1 数字链接（需要 GTIN）', pr_form: '码形式',
	pr_form_gs1: 'GS1 数字链接', pr_form_compact: '短码',
	pr_more: '更多产品', pr_batches: '批次', pr_content: '内容',
	pr_gs1_link: 'GS1 链接', pr_edit: '修改', pr_edit_title: '修改产品',
	pr_edit_note: 'SKU、GTIN 和码形式已印在码上，不能修改。',
	pr_created: '已创建产品', pr_updated: '已保存修改',
	pr_no_batches: '此产品还没有批次。', pr_batches_more: '更多批次',
	pr_new_batch: '去创建批次', pr_hide: '收起', pr_none: '还没有产品。',
	pr_no_match: '没有匹配的产品。', pr_count: '已显示',
	pr_err_exists: '此 SKU 或 GTIN 已被本品牌的其他产品使用。',
	pr_err_invalid: '输入有误：SKU 1-64 个字符，名称 1-200 个字符，人数 1-15。',
	pr_err_not_found: '产品不存在（可能已被删除）。',
	pr_err_forbidden: '只有管理员可以新建或修改产品。',
	pr_err_gtin: 'GTIN 须为 8、12、13 或 14 位数字，且校验位正确。',
	pr_err_gs1: '印刷 GS1 数字链接需要先填写 GTIN。',
	pr_err_rate_limited: '操作太频繁，请稍后再试。',
	pr_err_load: '产品列表加载失败。',
});
Object.assign(A.TEXT.en, {
	products: 'Products', pr_search: 'Search by SKU or name',
	pr_new: 'New product', pr_gtin: 'GTIN (optional, 8/12/13/14 digits)',
	pr_max: 'Most scanners per code',
	pr_max_note: 'More distinct devices than this scanning one code make ' +
	    'it suspicious (a likely copy).',
	pr_gs1: 'Print GS1 Digital Link codes (needs a GTIN)',
	pr_form: 'Code form', pr_form_gs1: 'GS1 Digital Link',
	pr_form_compact: 'Compact', pr_more: 'More products',
	pr_batches: 'Batches', pr_content: 'Content', pr_gs1_link: 'GS1 link',
	pr_edit: 'Edit', pr_edit_title: 'Edit product',
	pr_edit_note: 'The SKU, GTIN and code form are printed on the codes ' +
	    'and cannot change.',
	pr_created: 'Product created', pr_updated: 'Changes saved',
	pr_no_batches: 'This product has no batches yet.',
	pr_batches_more: 'More batches', pr_new_batch: 'Create a batch',
	pr_hide: 'Hide', pr_none: 'No products yet.',
	pr_no_match: 'No product matches.', pr_count: 'Shown',
	pr_err_exists: 'Another product of this brand has this SKU or GTIN.',
	pr_err_invalid: 'Check the input: SKU 1-64 characters, name 1-200, ' +
	    'scanners 1-15.',
	pr_err_not_found: 'No such product (it may have been removed).',
	pr_err_forbidden: 'Only an admin may create or change products.',
	pr_err_gtin: 'A GTIN has 8, 12, 13 or 14 digits with a correct ' +
	    'check digit.',
	pr_err_gs1: 'GS1 Digital Link codes need a GTIN first.',
	pr_err_rate_limited: 'Too many requests; try again shortly.',
	pr_err_load: 'The product list could not be loaded.',
});

/* A localised line for an API error: this page's by its code, else app.js's. */
function errText(e) {
	const key = 'pr_err_' + (e && e.code);
	return A.TEXT[A.lang()][key] ? t(key) : A.errText(e);
}

/*
 * The product's GS1 Digital Link at the brand's resolver (its base_url,
 * as GET /admin/me gives it): the URI the brand's codes carry, less the
 * serial (GS1 Digital Link URI syntax 1.2, the /01/{gtin} path).
 */
function gs1Link(gtin) {
	const me = A.me();
	let base = ((me && me.brand && me.brand.base_url) || '')
	    .replace(/\/+$/, '');
	if (!/^https?:\/\//i.test(base))
		base = '';	/* never another scheme in an href */
	return base + '/01/' + encodeURIComponent(gtin);
}

/* GS1 General Specifications 7.9.1: the mod-10 check digit. */
function gtinOk(s) {
	if (!/^(\d{8}|\d{12,14})$/.test(s))
		return false;
	const d = s.padStart(14, '0').split('').map(Number);
	let sum = 0;
	for (let i = 0; i < 13; i++)
		sum += d[i] * (i % 2 === 0 ? 3 : 1);
	return (10 - sum % 10) % 10 === d[13];
}

function stateKind(s) {
	return s === 'active' ? 'ok' : s === 'revoked' ? 'bad' : 'warn';
}

/* One product's batches, newest first, a page at a time. */
async function batchesOf(p, box) {
	loading(box);
	let next = null;
	const rows = [];
	const more = el('button', { type: 'button', class: 'pr-batches-more',
	    hidden: true }, t('pr_batches_more'));
	const tbl = el('div', {});
	const draw = () => {
		append(clear(tbl), [rows.length ? table([
		    { label: '#', key: 'id' },
		    { label: t('lot'), key: 'lot' },
		    { label: t('count'), key: 'count', num: true },
		    { label: t('state'), render: (b) => pill(t(b.state),
		      stateKind(b.state)) },
		    { label: t('created'), render: (b) => when(b.created) },
		], rows) : el('p', { class: 'empty' }, t('pr_no_batches'),
		    can.operate() ? [' ', el('a', { href: '#/batches' },
		    t('pr_new_batch'))] : null)]);
		more.hidden = next === null;
	};
	const page = async () => {
		const q = new URLSearchParams({ sku: p.sku, order: 'newest',
		    limit: '20' });
		if (next !== null)
			q.set('before', String(next));
		try {
			const r = await api('GET', '/api/v1/batches?' + q);
			rows.push(...r.batches);
			next = r.next;
			draw();
		} catch (e) {
			append(clear(tbl), [el('div', { class: 'notice error' },
			    errText(e))]);
		}
	};
	more.addEventListener('click', page);
	append(clear(box), [el('h3', {}, `${t('pr_batches')} · ${p.sku}`), tbl,
	    more]);
	await page();
}

/* The admin's change of a product, asked in the page. */
async function editProduct(p, done) {
	const name = el('input', { id: 'pr-edit-name', value: p.name,
	    maxlength: 200, required: true });
	const max = el('input', { id: 'pr-edit-max', type: 'number', min: 1,
	    max: 15, value: p.max_scanners, required: true });
	const body = el('div', { class: 'stack' },
	    el('p', { class: 'muted' }, t('pr_edit_note')),
	    el('label', {}, t('name'), name),
	    el('label', {}, t('pr_max'), max));
	if (!await confirmBox(`${t('pr_edit_title')} · ${p.sku}`, body))
		return;
	const req = {};
	if (name.value.trim() !== p.name)
		req.name = name.value.trim();
	if (Number(max.value) !== p.max_scanners)
		req.max_scanners = Number(max.value);
	if (!Object.keys(req).length)
		return;
	if (req.name === '' || (req.max_scanners !== undefined &&
	    !(Number.isInteger(req.max_scanners) && req.max_scanners >= 1 &&
	    req.max_scanners <= 15))) {
		toast(t('pr_err_invalid'), true);
		return;
	}
	try {
		await api('PATCH', '/api/v1/products/' + encodeURIComponent(p.sku),
		    req);
		toast(t('pr_updated'));
		done();
	} catch (e) {
		toast(errText(e), true);
	}
}

function createForm(onDone) {
	const f = {
		sku: el('input', { name: 'sku', id: 'pr-sku', required: true,
		    maxlength: 64 }),
		name: el('input', { name: 'name', id: 'pr-name', required: true,
		    maxlength: 200 }),
		gtin: el('input', { name: 'gtin', id: 'pr-gtin', inputmode: 'numeric',
		    maxlength: 14 }),
		max: el('input', { name: 'max_scanners', id: 'pr-max', type: 'number',
		    min: 1, max: 15, value: 5, required: true }),
		gs1: el('input', { type: 'checkbox', id: 'pr-gs1' }),
	};
	const msg = el('div', { class: 'notice error', id: 'pr-msg', hidden: true });
	const form = el('form', { class: 'stack', id: 'pr-form' },
	    el('label', {}, t('sku'), f.sku),
	    el('label', {}, t('name'), f.name),
	    el('label', {}, t('pr_gtin'), f.gtin),
	    el('label', {}, t('pr_max'), f.max),
	    el('label', { class: 'check wide' }, f.gs1, t('pr_gs1')),
	    el('p', { class: 'sub muted' }, t('pr_max_note')),
	    el('div', { class: 'actions' }, el('button', { type: 'submit',
	    class: 'primary', id: 'pr-create' }, t('create'))));
	const fail = (text) => {
		msg.textContent = text;
		msg.hidden = false;
	};
	form.addEventListener('submit', async (ev) => {
		ev.preventDefault();
		msg.hidden = true;
		const gtin = f.gtin.value.trim();
		if (gtin && !gtinOk(gtin))
			return fail(t('pr_err_gtin'));
		if (f.gs1.checked && !gtin)
			return fail(t('pr_err_gs1'));
		const req = { sku: f.sku.value.trim(), name: f.name.value.trim(),
		    max_scanners: Number(f.max.value) };
		if (gtin)
			req.gtin = gtin;
		if (f.gs1.checked)
			req.gs1 = true;
		try {
			await api('POST', '/api/v1/products', req);
			toast(t('pr_created'));
			onDone(req.sku);
		} catch (e) {
			fail(errText(e));
		}
	});
	return el('div', { class: 'card' }, el('h2', {}, t('pr_new')), msg, form);
}

async function productsPage(box, params) {
	const search = el('input', { id: 'pr-q', type: 'search', maxlength: 200,
	    placeholder: t('pr_search'), 'aria-label': t('pr_search'),
	    value: params.get('q') || '' });
	const bar = el('form', { class: 'toolbar', id: 'pr-search-form' },
	    el('h1', {}, t('products')), el('span', { class: 'spacer' }), search,
	    el('button', { type: 'submit' }, t('search')));
	const list = el('div', { class: 'card', id: 'pr-list' });
	const detail = el('div', { class: 'card', id: 'pr-detail', hidden: true });
	append(box, [bar]);
	const reload = () => A.route();
	if (can.admin())
		box.appendChild(createForm((sku) => {
			/* Show the new product: a new hash redraws by itself. */
			const h = '#/products?q=' + encodeURIComponent(sku);
			if (location.hash !== h)
				location.hash = h;
			else
				reload();
		}));
	append(box, [list, detail]);
	bar.addEventListener('submit', (ev) => {
		ev.preventDefault();
		const q = search.value.trim();
		location.hash = '#/products' + (q ? '?q=' + encodeURIComponent(q) : '');
	});

	const q = (params.get('q') || '').trim();
	let rows = [], next = null;
	const more = el('button', { type: 'button', id: 'pr-more' }, t('pr_more'));
	const show = async (p) => {
		detail.hidden = false;
		await batchesOf(p, detail);
		detail.appendChild(el('button', { type: 'button', class: 'ghost',
		    on: { click: () => { detail.hidden = true; } } }, t('pr_hide')));
	};
	const actions = (p) => el('div', { class: 'row-actions' },
	    el('button', { type: 'button', class: 'pr-show-batches',
	      on: { click: () => show(p) } }, t('pr_batches')),
	    el('a', { class: 'button', href: '#/editor?sku=' +
	      encodeURIComponent(p.sku) }, t('pr_content')),
	    p.gtin ? el('a', { class: 'button pr-gs1-link', href: gs1Link(p.gtin),
	      title: gs1Link(p.gtin) }, t('pr_gs1_link')) : null,
	    can.admin() ? el('button', { type: 'button', class: 'pr-edit',
	      on: { click: () => editProduct(p, reload) } }, t('pr_edit')) : null);
	const draw = () => {
		append(clear(list), [table([
		    { label: t('sku'), key: 'sku' },
		    { label: t('name'), key: 'name' },
		    { label: 'GTIN', render: (p) => p.gtin || '–' },
		    { label: t('pr_max'), key: 'max_scanners', num: true },
		    { label: t('pr_form'), render: (p) => p.gs1 ?
		      pill(t('pr_form_gs1'), 'info') : t('pr_form_compact') },
		    { label: t('created'), render: (p) => when(p.created) },
		    { label: t('actions'), render: actions },
		], rows, q ? t('pr_no_match') : t('pr_none')),
		    el('p', { class: 'muted', id: 'pr-shown' },
		    `${t('pr_count')} ${fmt(rows.length)}`),
		    next !== null ? more : null]);
	};
	const page = async () => {
		const qs = new URLSearchParams({ limit: '50' });
		if (q)
			qs.set('q', q);
		if (next !== null)
			qs.set('after', next);
		try {
			const r = await api('GET', '/api/v1/products?' + qs);
			rows = rows.concat(r.products);
			next = r.next;
			draw();
		} catch (e) {
			append(clear(list), [el('div', { class: 'notice error' },
			    t('pr_err_load'), ' ', errText(e), ' ',
			    el('button', { type: 'button', on: { click: reload } },
			    t('retry')))]);
		}
	};
	more.addEventListener('click', page);
	loading(list);
	await page();
}

A.registerPage('products', 'customers', productsPage, { group: 'production' });

})();
