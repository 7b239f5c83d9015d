/*
 * editor.js - the dashboard's editor of what a scan shows and where it
 * goes (issue 18 item 7): a product picker, then three tabs (the brand's
 * and the product's content per language; the GS1 links; the redirect
 * rules, in editor-links.js) beside a live preview of the consumer page
 * at 390x844 in zh-CN or English.
 *
 * It keeps the rules of app.js (whose helpers it uses through
 * window.sigilAdmin): server data reaches the page as text only, every
 * change sends the CSRF token, change controls are drawn for admins only
 * (the API refuses the rest anyway).
 *
 * The preview pane is editor-preview.js.
 */
'use strict';

(function () {

const A = window.sigilAdmin;
if (!A)
	return;
const { el, append, clear, t, api, confirmBox } = A;

Object.assign(A.TEXT.zh, {
	editor: '内容编辑', ed_pick: '选择产品', ed_sku_other: '其他 SKU…',
	ed_open: '打开', ed_no_products: '还没有产品批次。可在下方直接输入 SKU。',
	ed_unknown_product: '没有此 SKU 的产品', ed_tab_content: '页面内容',
	ed_tab_links: '链接', ed_tab_rules: '跳转规则', ed_preview: '预览',
	ed_preview_note: '消费者扫码看到的页面（390×844），未保存的修改即时显示；预览不记录扫码。',
	ed_zh: '中文', ed_en: 'English', ed_lang_of: '编辑语言',
	ed_brand: '品牌信息（所有产品共用）', ed_display_name: '品牌显示名称',
	ed_logo: '品牌标志', ed_support_phone: '客服电话',
	ed_support_url: '客服网址', ed_product_content: '产品页面',
	ed_target: '适用于', ed_target_product: '本产品的所有批次',
	ed_target_batch: '仅批次', ed_batch_note: '批次内容逐项覆盖产品内容：留空的项目沿用产品内容。',
	ed_title: '标题', ed_story: '产品故事（空一行分段）', ed_images: '图片',
	ed_upload: '上传图片', ed_uploading: '正在上传…', ed_buttons: '按钮',
	ed_add_button: '添加按钮', ed_label: '按钮文字', ed_kind: '类型',
	ed_kind_url: '网址', ed_kind_tel: '电话', ed_kind_link: '链接类型',
	ed_move_up: '上移', ed_move_down: '下移', ed_remove: '移除',
	ed_save: '保存修改', ed_saving: '正在保存…', ed_saved: '已保存',
	ed_discard: '放弃修改', ed_unsaved: '有未保存的修改',
	ed_confirm_discard: '未保存的修改将丢失。', ed_none_img: '未选图片',
	ed_pick_image: '从已上传图片中选择', ed_clear: '清除',
	ed_read_only: '当前角色只读：可查看内容、链接、规则和预览，不能修改。',
	ed_admin_only: '只有管理员可以修改页面内容、链接与跳转规则。',
	ed_verdict: '验证结果',
	ed_goes_away: '注意：正品扫码会直接跳转到默认链接，消费者看不到此页面：',
	ed_preview_invalid: '草稿中有服务器不接受的内容（已在左侧标出）；预览显示上一个有效版本。', ed_fix_fields: '请修改标出的项目后再保存。',
	ed_img_type: '只支持 PNG、JPEG、WebP 或 GIF 图片（不支持 SVG）。',
	ed_img_big: '图片超过 2 MB，请压缩后再上传。',
	ed_preview_failed: '预览暂不可用', ed_not_ready: '此功能的接口尚未上线（服务器返回 404）。',
	ed_inherit: '沿用产品内容：', ed_delete_lang: '删除此语言的内容',
	ed_confirm_delete_lang: '此语言的内容将被删除，消费者将看到其他语言的内容或默认页面。',
	ed_lang_other: '其他语言代码（如 ja）', ed_add: '添加',
	err_required: '必填',
	f_title: '标题最多 80 个字符，且不能含控制字符', f_story: '故事过长或含不允许的字符',
	f_images: '图片不存在或数量过多', f_buttons: '按钮无效',
	f_label: '按钮文字必填，最多 24 个字符',
	f_href: '须是完整网址（http:// 或 https:// 开头）',
	f_button_href: '须是 https:// 网址、tel: 电话或 link:gs1: 链接类型',
	f_display_name: '名称必填，且不能过长', f_logo: '所选图片不存在',
	f_support_phone: '电话号码无效：可带 +，3–20 位数字，可含空格和 -',
	ed_img_full: '品牌图片总量已达上限，请先删除不用的图片。',
	f_support_url: '须是完整网址（http:// 或 https:// 开头）',
	f_link_type: '须是 GS1 Web 词汇表中的链接类型（如 gs1:pip）',
	f_hreflang: '语言代码无效（如 zh-CN、en）',
	f_context: '上下文过长或无效', f_media_type: '媒体类型无效（如 text/html）',
	f_default: '此层级已有默认链接', f_type_default: '此链接类型已有默认链接',
	f_priority: '须是整数', f_lang: '语言代码无效（如 zh-CN、en）',
	f_wechat: '无效', f_from: '时间无效', f_until: '时间无效，或早于开始时间',
	f_region: '经销商不存在', f_note: '备注过长', f_batch: '批次不存在',
	f_sku: '产品不存在', f_lot: '批号无效', f_serial: '序列号无效',
	f_gtin: 'GTIN 无效', f_when: '条件无效',
});
Object.assign(A.TEXT.en, {
	editor: 'Content editor', ed_pick: 'Product', ed_sku_other: 'Other SKU…',
	ed_open: 'Open', ed_no_products: 'No product has a batch yet. Type a SKU below.',
	ed_unknown_product: 'There is no product with this SKU',
	ed_tab_content: 'Page content', ed_tab_links: 'Links',
	ed_tab_rules: 'Redirect rules', ed_preview: 'Preview',
	ed_preview_note: 'The page a consumer sees after a scan (390×844), ' +
	    'with your unsaved changes; a preview records no scan.',
	ed_zh: '中文', ed_en: 'English', ed_lang_of: 'Language',
	ed_brand: 'Brand (shared by every product)',
	ed_display_name: 'Brand display name', ed_logo: 'Logo',
	ed_support_phone: 'Support phone', ed_support_url: 'Support web page',
	ed_product_content: 'Product page', ed_target: 'Applies to',
	ed_target_product: 'every batch of this product',
	ed_target_batch: 'only batch',
	ed_batch_note: 'A batch overrides the product field by field: ' +
	    'what you leave empty comes from the product.',
	ed_title: 'Title', ed_story: 'Story (a blank line starts a paragraph)',
	ed_images: 'Images', ed_upload: 'Upload an image',
	ed_uploading: 'Uploading…', ed_buttons: 'Buttons',
	ed_add_button: 'Add a button', ed_label: 'Button text', ed_kind: 'Kind',
	ed_kind_url: 'Web page', ed_kind_tel: 'Phone', ed_kind_link: 'Link type',
	ed_move_up: 'Up', ed_move_down: 'Down', ed_remove: 'Remove',
	ed_save: 'Save changes', ed_saving: 'Saving…', ed_saved: 'Saved',
	ed_discard: 'Discard changes', ed_unsaved: 'Unsaved changes',
	ed_confirm_discard: 'Your unsaved changes will be lost.',
	ed_none_img: 'no image', ed_pick_image: 'Choose an uploaded image',
	ed_clear: 'Clear',
	ed_read_only: 'Your role is read-only: you see the content, links, ' +
	    'rules and preview, and change nothing.',
	ed_admin_only: 'Only admins change page content, links and redirect rules.',
	ed_verdict: 'Verdict',
	ed_goes_away: 'Note: a genuine scan goes straight to the default link; consumers do not see this page:',
	ed_preview_invalid: 'The draft holds something the server refuses (marked on the left); the preview shows the last valid version.', ed_fix_fields: 'Please correct the marked fields and save again.',
	ed_img_type: 'Only PNG, JPEG, WebP or GIF images (no SVG).',
	ed_img_big: 'The image is over 2 MB; please make it smaller.',
	ed_preview_failed: 'Preview unavailable',
	ed_not_ready: 'The API behind this is not available yet (the server answers 404).',
	ed_inherit: 'From the product: ', ed_delete_lang: 'Delete this language',
	ed_confirm_delete_lang: 'The content in this language is deleted; ' +
	    'consumers see another language or the default page.',
	ed_lang_other: 'Other language code (e.g. ja)', ed_add: 'Add',
	err_required: 'Required',
	f_title: 'A title has at most 80 characters',
	f_story: 'The story is too long or has characters that are not allowed',
	f_images: 'An image does not exist, or there are too many',
	f_buttons: 'A button is not valid',
	f_label: 'Button text is required and must not be too long',
	f_href: 'Must be a full address starting with http:// or https://',
	f_button_href: 'Must be an https:// address, tel: number or link:gs1: link type',
	f_display_name: 'A name is required and must not be too long',
	f_logo: 'The chosen image does not exist',
	f_support_phone: 'Not a phone number: an optional +, 3 to 20 digits, spaces and -',
	ed_img_full: 'The brand\'s images are at their limit; delete unused ones first.',
	f_support_url: 'Must be a full address starting with http:// or https://',
	f_link_type: 'Must be a link type of the GS1 Web Vocabulary (e.g. gs1:pip)',
	f_hreflang: 'Not a language code (e.g. zh-CN, en)',
	f_context: 'The context is too long or not valid',
	f_media_type: 'Not a media type (e.g. text/html)',
	f_default: 'This level has a default link already',
	f_type_default: 'This link type has a default link already',
	f_priority: 'Must be a whole number', f_lang: 'Not a language code (e.g. zh-CN, en)',
	f_wechat: 'Not valid', f_from: 'Not a valid time',
	f_until: 'Not a valid time, or before the start',
	f_region: 'No such distributor', f_note: 'The note is too long',
	f_batch: 'No such batch', f_sku: 'No such product', f_lot: 'Not a valid lot',
	f_serial: 'Not a valid serial', f_gtin: 'Not a valid GTIN',
	f_when: 'The conditions are not valid',
});

const LANGS = ['zh-CN', 'en'];
const langName = (l) => l === 'zh-CN' ? t('ed_zh') : l === 'en' ? t('ed_en') : l;
const IMAGE_ID = /^[A-Za-z0-9_-]{1,64}$/;

/* ---- errors: next to the field they name, in the dashboard's language ---- */

/*
 * The field an API error names: error.field if the server gives one,
 * else the first of `names` that its message mentions ("'href' must be
 * ...", "buttons[1].href ..."). Returns [name, index] or null.
 */
function fieldOf(err, names) {
	const msg = String(err && (err.field || err.message) || '');
	let best = null;
	for (const n of names) {
		const re = new RegExp('(^|[^A-Za-z_])' + n.replace('.', '\\.') +
		    '(?:\\[(\\d+)\\]|\\.(\\d+))?(?:\\.([a-z_]+))?(?=[^A-Za-z_]|$)');
		const m = re.exec(msg);
		if (m && (best === null || m.index < best.at))
			best = { at: m.index, name: n, index: m[2] || m[3],
			    sub: m[4] };
	}
	return best;
}

/* A sentence for an API error without a field: app.js's errText. */
const errText = (err) => A.errText(err);

/* The sentence shown at field `key` (f_KEY) for a server error. */
function fieldText(key, err) {
	if (A.lang() === 'en' && err && err.message)
		return err.message;
	const k = 'f_' + key;
	return A.TEXT.zh[k] && t(k) !== k ? t(k) : t('err_invalid');
}

/*
 * A form's error places: fields[name] = element after which a message
 * goes. show(err) puts it next to the field the error names (or at the
 * top), clearAll() removes them.
 */
function errorPlaces(top) {
	const places = new Map();
	const shown = [];
	const self = {
		add(name, field, key) {
			places.set(name, { field, key: key || name });
			return field;
		},
		clearAll() {
			for (const e of shown.splice(0))
				e.remove();
			for (const p of places.values())
				if (p.field.removeAttribute)
					p.field.removeAttribute('aria-invalid');
			top.hidden = true;
		},
		at(name, text, quiet) {
			const p = places.get(name);
			if (!p) {
				top.textContent = A.clean(text);
				top.hidden = false;
				return;
			}
			const m = el('div', { class: 'field-error', role: 'alert' }, text);
			m.dataset.field = name;
			p.field.setAttribute('aria-invalid', 'true');
			p.field.insertAdjacentElement('afterend', m);
			shown.push(m);
			if (p.field.focus && !quiet)
				p.field.focus();
		},
		/* quiet: while typing (the preview's check): no focus moved. */
		show(err, resolve, quiet) {
			self.clearAll();
			const names = [...new Set([...places.keys()].map((k) =>
			    k.split('#')[0]))];
			const f = fieldOf(err, names);
			let name = f ? f.name : null;
			if (f && resolve && places.has(resolve(f)))
				name = resolve(f);
			if (name && places.has(name) && (err.status === 422 ||
			    err.status === 400 || (err.status === 404 && f))) {
				self.at(name, fieldText(places.get(name).key, err), quiet);
				return;
			}
			top.textContent = A.clean(errText(err));
			top.hidden = false;
		},
	};
	return self;
}

/* ---- images ---- */

function imageUrl(id) {
	return IMAGE_ID.test(String(id)) ? '/i/' + id : null;
}

function thumb(id) {
	const u = imageUrl(id);
	if (!u)
		return el('span', { class: 'thumb' }, '?');
	const img = document.createElement('img');
	img.src = u;
	img.alt = '';
	img.className = 'thumb';
	img.loading = 'lazy';
	return img;
}

/* Uploads a File as POST /api/v1/images (raw body): the image or throws. */
async function uploadImage(file) {
	if (!/^image\/(png|jpeg|webp|gif)$/.test(file.type))
		throw Object.assign(new Error('type'), { local: 'ed_img_type' });
	if (file.size > 2 * 1024 * 1024)
		throw Object.assign(new Error('size'), { local: 'ed_img_big' });
	const r = await fetch('/api/v1/images', { method: 'POST',
	    credentials: 'same-origin', body: file, headers: {
	    'Content-Type': file.type, 'Accept': 'application/json',
	    'X-CSRF-Token': A.me() ? A.me().csrf : '' } });
	let doc = null;
	try {
		doc = await r.json();
	} catch (e) {
		doc = null;
	}
	if (!r.ok) {
		const e = doc && doc.error ? doc.error : {};
		throw new A.ApiError(r.status, e.code, e.message);
	}
	return doc;
}

function uploadError(e) {
	if (e.local)
		return t(e.local);
	if (e.status === 413)
		return t('ed_img_big');
	if (e.code === 'images_full')
		return t('ed_img_full');
	if (e.status === 415 || (e.status === 422 && /type|svg|image/i.test(e.message)))
		return t('ed_img_type');
	return errText(e);
}

/* ---- the page ---- */

async function getOr404(path) {
	try {
		return await api('GET', path);
	} catch (e) {
		if (e.status === 404)
			return null;
		throw e;
	}
}

/*
 * The products a brand can pick: every SKU of its batches (there is no
 * product list endpoint), newest batch first. The first NAMED_MAX are
 * named by GET products/{sku}, a few at a time, so that a brand with
 * many SKUs stays well inside the API's per-user rate; the others show
 * by SKU (and any SKU can be typed).
 */
const NAMED_MAX = 60;

async function loadProducts() {
	const bl = (await api('GET', '/api/v1/batches')).batches || [];
	const skus = [...new Set(bl.slice().reverse().map((b) => b.sku))];
	const named = new Map();
	const queue = skus.slice(0, NAMED_MAX);
	await Promise.all([0, 1, 2, 3].map(async () => {
		for (let s = queue.shift(); s !== undefined; s = queue.shift()) {
			const p = await getOr404('/api/v1/products/' +
			    encodeURIComponent(s));
			if (p)
				named.set(s, p);
		}
	}));
	return { batches: bl, products: skus.map((s) => named.get(s) ||
	    (skus.indexOf(s) >= NAMED_MAX ? { sku: s, name: s, unnamed: true } :
	    null)).filter(Boolean) };
}

const state = {};

async function editorPage(box, params) {
	const canEdit = A.can.admin();
	const S = Object.assign(state, { canEdit, box, tab: params.get('tab') ||
	    'content', pvLang: state.pvLang || (A.lang() === 'zh' ? 'zh-CN' : 'en'),
	    pvVerdict: 'genuine', dirty: false, seq: 0 });
	const head = el('div', { class: 'toolbar' }, el('h1', {}, t('editor')),
	    el('span', { class: 'spacer' }));
	box.appendChild(head);
	if (!A.can.operate())
		box.appendChild(el('div', { class: 'notice', id: 'ed-readonly' },
		    t('ed_read_only')));
	else if (!canEdit)
		box.appendChild(el('div', { class: 'notice', id: 'ed-readonly' },
		    t('ed_admin_only')));
	const body = el('div', {});
	box.appendChild(body);
	A.loading(body);
	let cat;
	try {
		[cat, S.distributors] = await Promise.all([loadProducts(),
		    api('GET', '/api/v1/distributors').then((d) =>
		    d.distributors || [], () => [])]);
	} catch (e) {
		A.failure(body, e, () => A.route());
		return;
	}
	S.allBatches = cat.batches;
	S.products = cat.products;
	const sku = params.get('sku') || (S.products[0] && S.products[0].sku);
	const picker = el('select', { id: 'ed-product', 'aria-label': t('ed_pick') },
	    S.products.map((p) => el('option', { value: p.sku,
	    selected: p.sku === sku }, p.unnamed ? p.sku : `${p.name} · ${p.sku}` +
	    (p.gtin ? ` · GTIN ${p.gtin}` : ''))),
	    el('option', { value: '' }, t('ed_sku_other')));
	const other = el('input', { id: 'ed-sku', placeholder: 'SKU', size: 14,
	    maxlength: 64, hidden: true });
	const go = el('button', { type: 'button', id: 'ed-open', hidden: true },
	    t('ed_open'));
	const pickMsg = el('span', { class: 'field-error', hidden: true,
	    id: 'ed-pick-error' });
	append(head, [el('label', { class: 'inline' }, t('ed_pick'), ' ', picker),
	    other, go, pickMsg]);
	const open = async (s) => {
		if (S.dirty && !await confirmBox(t('ed_discard'),
		    el('p', {}, t('ed_confirm_discard')))) {
			picker.value = S.product ? S.product.sku : '';
			return;
		}
		S.dirty = false;
		location.hash = '#/editor?sku=' + encodeURIComponent(s) +
		    '&tab=' + S.tab;
	};
	picker.addEventListener('change', () => {
		const s = picker.value;
		other.hidden = go.hidden = s !== '';
		if (s)
			open(s);
		else
			other.focus();
	});
	go.addEventListener('click', async () => {
		const s = other.value.trim();
		pickMsg.hidden = true;
		if (s && await getOr404('/api/v1/products/' + encodeURIComponent(s)))
			return open(s);
		pickMsg.textContent = t('ed_unknown_product');
		pickMsg.hidden = false;
	});
	if (!sku) {
		picker.value = '';
		other.hidden = go.hidden = false;
		append(clear(body), [el('p', { class: 'empty' }, t('ed_no_products'))]);
		return;
	}
	let product = S.products.find((p) => p.sku === sku && !p.unnamed);
	if (!product) {
		try {
			product = await api('GET', '/api/v1/products/' +
			    encodeURIComponent(sku));
		} catch (e) {
			append(clear(body), [el('div', { class: 'notice error' },
			    e.status === 404 ? t('ed_unknown_product') + ': ' + sku :
			    errText(e))]);
			return;
		}
		const known = [...picker.options].find((o) => o.value === product.sku);
		if (known)
			known.textContent = A.clean(`${product.name} · ${product.sku}`);
		else
			picker.insertBefore(el('option', { value: product.sku,
			    selected: true }, `${product.name} · ${product.sku}`),
			    picker.firstChild);
	}
	S.product = product;
	S.batches = S.allBatches.filter((b) => b.sku === sku);
	clear(body);

	/* Tabs on the left, the preview on the right. */
	const tabs = el('div', { class: 'tabs', role: 'tablist' });
	const panel = el('div', { class: 'tab-panel' });
	const layout = el('div', { class: 'ed-layout' },
	    el('div', { class: 'ed-main' }, tabs, panel),
	    window.sigilEditor.previewPane(S));
	body.appendChild(layout);
	const show = (name) => {
		S.tab = name;
		history.replaceState(null, '', '#/editor?sku=' +
		    encodeURIComponent(sku) + '&tab=' + name);
		for (const b of tabs.children)
			b.setAttribute('aria-selected', String(b.dataset.tab === name));
		clear(panel);
		const fn = { content: contentTab, links: window.sigilEditor.linksTab,
		    rules: window.sigilEditor.rulesTab }[name];
		fn(panel, S);
	};
	for (const [name, label] of [['content', 'ed_tab_content'],
	    ['links', 'ed_tab_links'], ['rules', 'ed_tab_rules']]) {
		const b = el('button', { type: 'button', role: 'tab',
		    id: 'ed-tab-' + name, class: 'tab' }, t(label));
		b.dataset.tab = name;
		b.addEventListener('click', () => {
			if (name !== S.tab)
				show(name);
		});
		tabs.appendChild(b);
	}
	/* Unsaved content is not lost by a click elsewhere. */
	A.setLeaveGuard(async () => !S.dirty || await confirmBox(t('ed_discard'),
	    el('p', {}, t('ed_confirm_discard'))));
	/* The content draft is loaded once, whatever tab shows first. */
	S.ready = loadContent(S);
	S.ready.catch(() => {});	/* each tab that needs it reports it */
	show(['content', 'links', 'rules'].includes(S.tab) ? S.tab : 'content');
}

/* ---- content ---- */

function emptyProduct() {
	return { title: '', story: '', images: [], buttons: [] };
}

function emptyBrand() {
	return { display_name: '', logo: '', support_phone: '', support_url: '' };
}

/* GET content/... answers {kind, lang, updated, content: {...}}. */
function inner(d) {
	return d && d.content && typeof d.content === 'object' ? d.content : d;
}

function normProduct(d) {
	const c = emptyProduct();
	d = inner(d);
	if (d) {
		c.title = d.title || '';
		c.story = d.story || '';
		c.images = Array.isArray(d.images) ? d.images.map(String) : [];
		c.buttons = Array.isArray(d.buttons) ? d.buttons.map((b) =>
		    ({ label: b.label || '', href: b.href || '' })) : [];
	}
	return c;
}

function normBrand(d) {
	const c = emptyBrand();
	d = inner(d);
	for (const k of Object.keys(c))
		if (d && d[k])
			c[k] = String(d[k]);
	return c;
}

/* The body a PUT sends: the fields that are set. */
function body(c) {
	const out = {};
	for (const [k, v] of Object.entries(c))
		if (Array.isArray(v) ? v.length : v !== '' && v !== null)
			out[k] = v;
	return out;
}

async function loadContent(S) {
	const sku = encodeURIComponent(S.product.sku);
	S.saved = { brand: {}, product: {}, batch: {} };
	S.draft = { brand: {}, product: {}, batch: {} };
	S.target = S.target && S.batches.some((b) => b.id === S.target) ?
	    S.target : 0;
	/*
	 * What exists, from the list: only those documents are asked for
	 * (a missing one would be a 404 in the browser's console).
	 */
	const list = await api('GET', '/api/v1/content');
	S.docs = (list && list.content) || [];
	const has = (kind, l, extra) => S.docs.some((it) => it && it.lang === l &&
	    it.kind === kind && Object.entries(extra || {}).every(([k, v]) =>
	    String(it[k]) === String(v)));
	const langs = new Set(LANGS);
	for (const it of S.docs)
		if (it && typeof it.lang === 'string' && (it.kind === 'brand' ||
		    it.sku === S.product.sku || (it.kind === 'batches' &&
		    S.batches.some((b) => b.id === it.batch))))
			langs.add(it.lang);
	S.langs = [...langs];
	S.editLang = S.langs.includes(S.editLang) ? S.editLang : S.pvLang;
	S.has = has;
	const jobs = [];
	for (const l of S.langs) {
		S.saved.brand[l] = S.saved.product[l] = null;
		if (has('brand', l))
			jobs.push(api('GET', `/api/v1/content/brand/${l}`).then((d) => {
				S.saved.brand[l] = normBrand(d);
			}));
		if (has('products', l, { sku: S.product.sku }))
			jobs.push(api('GET', `/api/v1/content/products/${sku}/${l}`)
			    .then((d) => {
				S.saved.product[l] = normProduct(d);
			}));
	}
	await Promise.all(jobs);
	for (const kind of ['brand', 'product'])
		for (const l of S.langs)
			S.draft[kind][l] = JSON.parse(JSON.stringify(S.saved[kind][l] ||
			    (kind === 'brand' ? emptyBrand() : emptyProduct())));
	if (S.target)
		await loadBatch(S, S.target);
}

async function loadBatch(S, id) {
	S.saved.batch = {};
	S.draft.batch = {};
	await Promise.all(S.langs.map(async (l) => {
		const d = S.has('batches', l, { batch: id }) ? await api('GET',
		    `/api/v1/content/batches/${id}/${l}`) : null;
		S.saved.batch[l] = d ? normProduct(d) : null;
		S.draft.batch[l] = normProduct(d);
	}));
}

/* What a page shows for lang: the batch's fields over the product's. */
function merged(S, l) {
	const p = S.draft.product[l] || emptyProduct();
	if (!S.target)
		return p;
	const b = S.draft.batch[l] || emptyProduct();
	return { title: b.title || p.title, story: b.story || p.story,
	    images: b.images.length ? b.images : p.images,
	    buttons: b.buttons.length ? b.buttons : p.buttons };
}

function changed(S) {
	const kinds = ['brand', 'product'].concat(S.target ? ['batch'] : []);
	const out = [];
	for (const kind of kinds)
		for (const l of S.langs) {
			const now = JSON.stringify(body(S.draft[kind][l] || {}));
			const was = JSON.stringify(body(S.saved[kind][l] || {}));
			if (now !== was)
				out.push([kind, l]);
		}
	return out;
}

/* Keeps the list of what exists in step with a save or a delete. */
function noteSaved(S, kind, l, exists) {
	const k = { brand: 'brand', product: 'products', batch: 'batches' }[kind];
	const extra = kind === 'product' ? { sku: S.product.sku } :
	    kind === 'batch' ? { batch: S.target } : {};
	S.docs = S.docs.filter((it) => !(it.kind === k && it.lang === l &&
	    Object.entries(extra).every(([n, v]) => String(it[n]) === String(v))));
	if (exists)
		S.docs.push(Object.assign({ kind: k, lang: l }, extra));
}

function contentPath(S, kind, l) {
	return kind === 'brand' ? `/api/v1/content/brand/${l}` :
	    kind === 'product' ? `/api/v1/content/products/${
	    encodeURIComponent(S.product.sku)}/${l}` :
	    `/api/v1/content/batches/${S.target}/${l}`;
}

async function contentTab(panel, S) {
	A.loading(panel);
	try {
		await S.ready;
	} catch (e) {
		A.failure(panel, e, () => A.route());
		return;
	}
	clear(panel);
	const ro = !S.canEdit;
	const top = el('div', { class: 'notice error', hidden: true,
	    id: 'ed-content-error' });
	const errs = {};
	const status = el('span', { class: 'muted', id: 'ed-status' });
	const saveBtn = ro ? null : el('button', { type: 'button',
	    class: 'primary', id: 'ed-save' }, t('ed_save'));
	const discardBtn = ro ? null : el('button', { type: 'button',
	    id: 'ed-discard' }, t('ed_discard'));
	const langBar = el('div', { class: 'seg', role: 'group',
	    'aria-label': t('ed_lang_of'), id: 'ed-langs' });
	const forms = el('div', {});
	const touched = () => {
		const c = changed(S);
		S.dirty = c.length > 0;
		status.textContent = S.dirty ? t('ed_unsaved') : '';
		if (saveBtn)
			saveBtn.disabled = !S.dirty;
		if (discardBtn)
			discardBtn.disabled = !S.dirty;
		S.refreshPreview();
	};
	const draw = () => {
		clear(langBar);
		for (const l of S.langs) {
			const b = el('button', { type: 'button', class: 'seg-item' +
			    (l === S.editLang ? ' on' : '') }, langName(l));
			b.dataset.lang = l;
			b.addEventListener('click', () => {
				S.editLang = l;
				if (S.pvLang !== l && LANGS.includes(l))
					S.setPreviewLang(l);
				draw();
			});
			langBar.appendChild(b);
		}
		if (!ro) {
			const other = el('input', { size: 8, maxlength: 35,
			    placeholder: t('ed_lang_other'), id: 'ed-lang-other',
			    'aria-label': t('ed_lang_other') });
			const add = el('button', { type: 'button', class: 'ghost' },
			    t('ed_add'));
			add.addEventListener('click', () => {
				const v = other.value.trim();
				if (!/^[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8})*$/.test(v))
					return;
				if (!S.langs.includes(v)) {
					S.langs.push(v);
					S.draft.brand[v] = emptyBrand();
					S.draft.product[v] = emptyProduct();
					S.draft.batch[v] = emptyProduct();
				}
				S.editLang = v;
				draw();
			});
			append(langBar, [other, add]);
		}
		clear(forms);
		errs.brand = brandForm(forms, S, S.editLang, ro, touched);
		errs.page = productForm(forms, S, S.editLang, ro, touched, draw);
	};
	/*
	 * The preview checks the product draft as the server would save it:
	 * what it refuses is shown at its field while typing, and goes when
	 * the draft passes again.
	 */
	S.onPreview = (err) => {
		if (!errs.page || !panel.isConnected)
			return;
		if (err)
			errs.page.show(err, (f) => f.name === 'buttons' ? buttonField(
			    merged(S, S.pvLang).buttons, f, err.message) : null, true);
		else
			errs.page.clearAll();
	};
	append(panel, [el('div', { class: 'toolbar' }, langBar,
	    el('span', { class: 'spacer' }), status, discardBtn, saveBtn), top,
	    forms]);
	draw();
	touched();
	if (ro)
		return;
	discardBtn.addEventListener('click', async () => {
		if (!await confirmBox(t('ed_discard'), el('p', {},
		    t('ed_confirm_discard'))))
			return;
		for (const kind of ['brand', 'product', 'batch'])
			for (const l of S.langs)
				S.draft[kind][l] = JSON.parse(JSON.stringify(
				    S.saved[kind][l] || (kind === 'brand' ? emptyBrand() :
				    emptyProduct())));
		draw();
		touched();
	});
	saveBtn.addEventListener('click', async () => {
		top.hidden = true;
		saveBtn.disabled = true;
		status.textContent = t('ed_saving');
		let failed = false;
		for (const [kind, l] of changed(S)) {
			const b = body(S.draft[kind][l]);
			try {
				if (Object.keys(b).length)
					await api('PUT', contentPath(S, kind, l), b);
				else if (S.saved[kind][l])
					await api('DELETE', contentPath(S, kind, l));
				S.saved[kind][l] = Object.keys(b).length ?
				    JSON.parse(JSON.stringify(S.draft[kind][l])) : null;
				noteSaved(S, kind, l, !!S.saved[kind][l]);
			} catch (e) {
				failed = true;
				if (S.editLang !== l) {
					S.editLang = l;
					draw();
				}
				(kind === 'brand' ? errs.brand : errs.page).show(e,
				    (f) => f.name === 'buttons' ? buttonField(
				    S.draft[kind][l].buttons, f, e.message) : null);
				break;
			}
		}
		touched();
		S.refreshPreview(true);
		if (!failed)
			status.textContent = t('ed_saved');
	});
}

function field(label, input, wide) {
	return el('label', { class: wide ? 'wide' : null }, label, input);
}

function brandForm(box, S, l, ro, touched) {
	const d = S.draft.brand[l];
	const top = el('div', { class: 'notice error', hidden: true });
	const errs = errorPlaces(top);
	const inp = (name, attrs) => {
		const i = el('input', Object.assign({ name, value: d[name],
		    disabled: ro, id: 'ed-brand-' + name.replace(/_/g, '-') }, attrs));
		i.addEventListener('input', () => {
			d[name] = i.value;
			touched();
		});
		return errs.add(name, i);
	};
	const logo = el('div', { class: 'logo-pick', id: 'ed-brand-logo' });
	errs.add('logo', logo);
	const drawLogo = () => {
		clear(logo);
		logo.appendChild(d.logo ? thumb(d.logo) : el('span', { class: 'muted' },
		    t('ed_none_img')));
		if (ro)
			return;
		logo.appendChild(imagePicker(S, (id) => {
			d.logo = id;
			drawLogo();
			touched();
		}, 'ed-logo-upload'));
		if (d.logo) {
			const c = el('button', { type: 'button', class: 'ghost' },
			    t('ed_clear'));
			c.addEventListener('click', () => {
				d.logo = '';
				drawLogo();
				touched();
			});
			logo.appendChild(c);
		}
	};
	drawLogo();
	box.appendChild(el('div', { class: 'card', id: 'ed-brand' },
	    el('h2', {}, t('ed_brand'), ' · ', langName(l)), top,
	    el('div', { class: 'stack' },
	    field(t('ed_display_name'), inp('display_name', { maxlength: 40 })),
	    field(t('ed_support_phone'), inp('support_phone', { maxlength: 24,
	    inputmode: 'tel' })),
	    field(t('ed_support_url'), inp('support_url', { maxlength: 256,
	    placeholder: 'https://' }), true),
	    el('div', { class: 'wide' }, el('span', { class: 'lbl' }, t('ed_logo')),
	    logo))));
	return errs;
}

/*
 * An upload button plus a list of the brand's uploaded images; calls
 * pick(id) with the chosen or uploaded image.
 */
function imagePicker(S, pick, id) {
	const file = el('input', { type: 'file', id, 'aria-label': t('ed_upload') });
	file.accept = 'image/png,image/jpeg,image/webp,image/gif';
	const msg = el('span', { class: 'field-error', hidden: true });
	/* The browser's own file button speaks the browser's language. */
	const wrap = el('span', { class: 'img-pick' }, el('label',
	    { class: 'button upload' }, t('ed_upload'), file), msg);
	file.addEventListener('change', async () => {
		const f = file.files && file.files[0];
		if (!f)
			return;
		msg.hidden = false;
		msg.className = 'muted';
		msg.textContent = t('ed_uploading');
		try {
			const img = await uploadImage(f);
			msg.hidden = true;
			(S.images || (S.images = [])).unshift(img);
			pick(img.id);
		} catch (e) {
			msg.className = 'field-error';
			msg.textContent = uploadError(e);
		}
		file.value = '';
	});
	const choose = el('button', { type: 'button', class: 'ghost' },
	    t('ed_pick_image'));
	choose.addEventListener('click', async () => {
		try {
			S.images = (await api('GET', '/api/v1/images')).images || [];
		} catch (e) {
			msg.className = 'field-error';
			msg.textContent = errText(e);
			msg.hidden = false;
			return;
		}
		const grid = el('div', { class: 'img-grid' });
		let chosen = null;
		for (const im of S.images) {
			const b = el('button', { type: 'button', class: 'img-choice' },
			    thumb(im.id));
			b.addEventListener('click', () => {
				for (const x of grid.children)
					x.classList.remove('on');
				b.classList.add('on');
				chosen = im.id;
			});
			grid.appendChild(b);
		}
		if (!S.images.length)
			grid.appendChild(el('p', { class: 'empty' }, t('no_data')));
		if (await confirmBox(t('ed_pick_image'), grid) && chosen)
			pick(chosen);
	});
	wrap.appendChild(choose);
	return wrap;
}

function productForm(box, S, l, ro, touched, redraw) {
	const batch = S.target !== 0;
	const d = batch ? S.draft.batch[l] || (S.draft.batch[l] = emptyProduct()) :
	    S.draft.product[l];
	const base = S.draft.product[l] || emptyProduct();
	const top = el('div', { class: 'notice error', hidden: true });
	const errs = errorPlaces(top);
	const target = el('select', { id: 'ed-target', disabled: false },
	    el('option', { value: '0', selected: !batch }, t('ed_target_product')),
	    S.batches.map((b) => el('option', { value: b.id,
	    selected: S.target === b.id }, `${t('ed_target_batch')} #${b.id}` +
	    (b.lot ? ` · ${b.lot}` : ''))));
	target.addEventListener('change', async () => {
		const id = Number(target.value);
		if (S.target && changed(S).some(([k]) => k === 'batch') &&
		    !await confirmBox(t('ed_discard'), el('p', {},
		    t('ed_confirm_discard')))) {
			target.value = String(S.target);
			return;
		}
		S.target = id;
		if (id)
			await loadBatch(S, id);
		redraw();
		touched();
	});
	const inherit = (v) => batch && v ? el('span', { class: 'sub' },
	    t('ed_inherit'), v.length > 60 ? v.slice(0, 60) + '…' : v) : null;
	const title = el('input', { name: 'title', value: d.title, maxlength: 80,
	    disabled: ro, id: 'ed-title', placeholder: batch ? base.title : '' });
	title.addEventListener('input', () => {
		d.title = title.value;
		touched();
	});
	errs.add('title', title);
	const story = el('textarea', { name: 'story', disabled: ro,
	    id: 'ed-story' });
	story.rows = 8;
	story.maxLength = 2000;
	story.value = d.story;
	story.placeholder = batch ? base.story : '';
	story.addEventListener('input', () => {
		d.story = story.value;
		touched();
	});
	errs.add('story', story);
	const images = el('div', { class: 'img-list', id: 'ed-images' });
	errs.add('images', images);
	const drawImages = () => {
		clear(images);
		d.images.forEach((id, i) => {
			const item = el('div', { class: 'img-item' }, thumb(id));
			if (!ro)
				append(item, [rowButtons(d.images, i, () => {
					drawImages();
					touched();
				})]);
			images.appendChild(item);
		});
		if (batch && !d.images.length && base.images.length)
			images.appendChild(el('span', { class: 'muted' }, t('ed_inherit'),
			    String(base.images.length)));
		if (!ro && d.images.length < 6)
			images.appendChild(imagePicker(S, (id) => {
				d.images.push(id);
				drawImages();
				touched();
			}, 'ed-image-upload'));
	};
	drawImages();
	const buttons = el('div', { class: 'btn-list', id: 'ed-buttons' });
	errs.add('buttons', buttons);
	const drawButtons = () => {
		clear(buttons);
		d.buttons.forEach((b, i) => buttons.appendChild(buttonRow(b, i, d,
		    ro, errs, () => {
			drawButtons();
			touched();
		}, touched)));
		if (!ro && d.buttons.length < 4) {
			const add = el('button', { type: 'button', id: 'ed-add-button' },
			    t('ed_add_button'));
			add.addEventListener('click', () => {
				d.buttons.push({ label: '', href: 'https://' });
				drawButtons();
				touched();
				const last = buttons.querySelectorAll('.btn-row');
				if (last.length)
					last[last.length - 1].querySelector('input').focus();
			});
			buttons.appendChild(add);
		}
	};
	drawButtons();
	const del = ro || batch ? null : el('button', { type: 'button',
	    class: 'ghost', id: 'ed-delete-lang' }, t('ed_delete_lang'));
	if (del)
		del.addEventListener('click', async () => {
			if (!await confirmBox(t('ed_delete_lang'), el('p', {},
			    langName(l) + ': ' + t('ed_confirm_delete_lang'))))
				return;
			Object.assign(d, emptyProduct());
			redraw();
			touched();
		});
	box.appendChild(el('div', { class: 'card', id: 'ed-page' },
	    el('div', { class: 'toolbar' }, el('h2', {}, t('ed_product_content'),
	    ' · ', langName(l)), el('span', { class: 'spacer' }),
	    el('label', { class: 'inline' }, t('ed_target'), ' ', target), del),
	    batch ? el('p', { class: 'muted' }, t('ed_batch_note')) : null, top,
	    el('div', { class: 'stack' },
	    field(t('ed_title'), title, true), inherit(base.title),
	    field(t('ed_story'), story, true),
	    el('div', { class: 'wide' }, el('span', { class: 'lbl' }, t('ed_images')),
	    images),
	    el('div', { class: 'wide' }, el('span', { class: 'lbl' },
	    t('ed_buttons')), buttons))));
	return errs;
}

/*
 * The button row an error about 'buttons' is about: the index if the
 * server names one, else the first button whose text or address could
 * be what it refuses.
 */
function buttonField(list, f, msg) {
	const part = f.sub === 'label' || (!f.sub && /label|text/.test(msg) &&
	    !/href/.test(msg)) ? 'label' : 'href';
	let i = f.index !== undefined ? Number(f.index) : list.findIndex((b) =>
	    part === 'label' ? !b.label.trim() || b.label.length > 24 :
	    !/^(https?:\/\/[^\s"'<>]+|tel:\+?[0-9][0-9 -]*|link:gs1:[A-Za-z]+)$/
	    .test(b.href));
	if (i < 0)
		i = 0;
	return `buttons#${i}.${part}`;
}

/* Up, down and remove buttons for item i of list. */
function rowButtons(list, i, redraw) {
	const mk = (label, fn, dis) => {
		const b = el('button', { type: 'button', class: 'ghost small',
		    disabled: dis }, label);
		b.addEventListener('click', () => {
			fn();
			redraw();
		});
		return b;
	};
	const swap = (a, b) => {
		[list[a], list[b]] = [list[b], list[a]];
	};
	return el('span', { class: 'row-tools' },
	    mk(t('ed_move_up'), () => swap(i, i - 1), i === 0),
	    mk(t('ed_move_down'), () => swap(i, i + 1), i === list.length - 1),
	    mk(t('ed_remove'), () => list.splice(i, 1), false));
}

/* A button's row: text, kind (web page, phone, link type) and target. */
function buttonRow(b, i, d, ro, errs, redraw, touched) {
	const kindOf = (h) => /^tel:/i.test(h) ? 'tel' : /^link:/i.test(h) ?
	    'link' : 'url';
	let kind = kindOf(b.href);
	const label = el('input', { value: b.label, maxlength: 24, disabled: ro,
	    class: 'btn-label', 'aria-label': t('ed_label'),
	    placeholder: t('ed_label') });
	label.addEventListener('input', () => {
		b.label = label.value;
		touched();
	});
	const kindSel = el('select', { disabled: ro, class: 'btn-kind',
	    'aria-label': t('ed_kind') }, ['url', 'tel', 'link'].map((k) =>
	    el('option', { value: k, selected: k === kind }, t('ed_kind_' + k))));
	const valueBox = el('span', { class: 'btn-value' });
	const drawValue = () => {
		clear(valueBox);
		if (kind === 'link') {
			const cur = b.href.replace(/^link:/i, '');
			const sel = window.sigilEditor.linkTypeSelect(cur, ro);
			sel.classList.add('btn-href');
			sel.addEventListener('change', () => {
				b.href = 'link:' + sel.value;
				touched();
			});
			b.href = 'link:' + sel.value;
			valueBox.appendChild(sel);
			return;
		}
		const v = el('input', { disabled: ro, class: 'btn-href',
		    'aria-label': t('ed_kind_' + kind), value: kind === 'tel' ?
		    b.href.replace(/^tel:/i, '') : b.href,
		    inputmode: kind === 'tel' ? 'tel' : null, maxlength: 256,
		    placeholder: kind === 'tel' ? '+86…' : 'https://' });
		v.addEventListener('input', () => {
			b.href = (kind === 'tel' ? 'tel:' : '') + v.value.trim();
			touched();
		});
		valueBox.appendChild(v);
	};
	kindSel.addEventListener('change', () => {
		kind = kindSel.value;
		b.href = kind === 'tel' ? 'tel:' : kind === 'link' ? 'link:gs1:pip' :
		    'https://';
		drawValue();
		touched();
	});
	drawValue();
	const row = el('div', { class: 'btn-row' }, label, kindSel, valueBox,
	    ro ? null : rowButtons(d.buttons, i, redraw));
	errs.add(`buttons#${i}.label`, label, 'label');
	errs.add(`buttons#${i}.href`, valueBox, 'button_href');
	return row;
}

window.sigilEditor = Object.assign(window.sigilEditor || {}, {
	fieldOf, errText, fieldText, errorPlaces, LANGS, langName, body, merged,
});

/* Closing or reloading the tab with unsaved content asks the browser's way. */
window.addEventListener('beforeunload', (ev) => {
	if (state.dirty && /^#\/editor/.test(location.hash)) {
		ev.preventDefault();
		ev.returnValue = '';
	}
});

A.registerPage('editor', 'campaigns', editorPage, { ownNote: true,
    group: 'marketing' });

})();
