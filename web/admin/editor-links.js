/*
 * editor-links.js - the editor's Links and Redirect rules tabs (see
 * editor.js for the page): the GS1 links of a product, its batches and
 * the brand (/api/v1/links), and the product's redirect rules in the
 * order a scan tries them (/api/v1/redirects). Same rules as app.js:
 * text only, CSRF on changes, change controls for admins only.
 */
'use strict';

(function () {

const A = window.sigilAdmin;
const E = window.sigilEditor;
if (!A || !E)
	return;
const { el, append, clear, t, api, confirmBox } = A;

/*
 * The link types of the GS1 Web Vocabulary (https://ref.gs1.org/voc/,
 * "linkType" terms) a brand may choose, with names people read.
 * gs1:defaultLink and gs1:defaultLinkMulti are not offered: a link is
 * made the default with its "default" flag. The same list as sigild's
 * (src/domain/links.c); gs1:customerSupport, which sigild takes as
 * gs1:support, is offered as gs1:support.
 */
const LINK_TYPES = [
	['pip', '产品信息页', 'Product information page'],
	['promotion', '促销活动', 'Promotion'],
	['support', '客户服务', 'Customer support'],
	['registerProduct', '产品注册', 'Register the product'],
	['review', '评价', 'Reviews'], ['leaveReview', '写评价', 'Leave a review'],
	['traceability', '溯源信息', 'Traceability'],
	['certificationInfo', '认证信息', 'Certification'],
	['recipeInfo', '食谱', 'Recipes'],
	['nutritionalInfo', '营养信息', 'Nutrition'],
	['ingredientsInfo', '配料信息', 'Ingredients'],
	['allergenInfo', '过敏原信息', 'Allergens'],
	['instructions', '使用说明', 'Instructions'],
	['quickStartGuide', '快速上手', 'Quick start guide'],
	['tutorial', '教程', 'Tutorial'], ['faqs', '常见问题', 'FAQs'],
	['safetyInfo', '安全信息', 'Safety information'],
	['consumerHandlingStorageInfo', '储存与使用', 'Handling and storage'],
	['productSustainabilityInfo', '产品可持续信息', 'Product sustainability'],
	['sustainabilityInfo', '可持续信息', 'Sustainability'],
	['recallStatus', '召回状态', 'Recall status'],
	['hasRetailers', '购买渠道', 'Where to buy'],
	['purchaseSuppliesOrAccessories', '配件与耗材', 'Supplies and accessories'],
	['paymentLink', '付款', 'Payment'],
	['loyaltyProgram', '会员计划', 'Loyalty programme'],
	['socialMedia', '社交媒体', 'Social media'],
	['relatedVideo', '相关视频', 'Related video'],
	['relatedImage', '相关图片', 'Related image'],
	['appDownload', '下载应用', 'App download'],
	['activityIdeas', '活动创意', 'Activity ideas'],
	['eventsInfo', '活动信息', 'Events'],
	['homepage', '主页', 'Home page'],
	['brandHomepageClinical', '品牌主页（医疗专业）', 'Brand home page (clinical)'],
	['brandHomepagePatient', '品牌主页（患者）', 'Brand home page (patient)'],
	['epil', '电子说明书', 'Electronic patient leaflet'],
	['smpc', '产品特性概要', 'Summary of product characteristics'],
	['eifu', '电子使用说明', 'Electronic instructions for use'],
	['assemblyInstructions', '组装说明', 'Assembly instructions'],
	['whatsInTheBox', '包装清单', 'What is in the box'],
	['serviceInfo', '服务信息', 'Service information'],
	['userAgreement', '用户协议', 'User agreement'],
	['subscribe', '订阅', 'Subscribe'],
	['verificationService', '验证服务', 'Verification service'],
	['masterData', '主数据', 'Master data'], ['epcis', 'EPCIS 事件库', 'EPCIS repository'],
	['logisticsInfo', '物流信息', 'Logistics'],
	['locationInfo', '地点信息', 'Location'],
	['openingHoursInfo', '营业时间', 'Opening hours'],
	['menuInfo', '菜单', 'Menu'], ['scheduleTime', '预约', 'Book a time'],
	['careersInfo', '招聘信息', 'Careers'],
	['statisticInfo', '统计信息', 'Statistics'],
	['handledBy', '处理方', 'Handled by'], ['registryEntry', '登记记录', 'Registry entry'],
	['smartLabel', 'SmartLabel', 'SmartLabel'], ['jws', '签名数据 (JWS)', 'Signed data (JWS)'],
];

function typeName(code) {
	const c = String(code || '').replace(/^gs1:/, '');
	const row = LINK_TYPES.find((r) => r[0] === c);
	return row ? (A.lang() === 'zh' ? row[1] : row[2]) : c;
}

/* A select of the link types; an unknown current value stays selectable. */
function linkTypeSelect(current, disabled) {
	const cur = String(current || 'gs1:pip');
	const opts = LINK_TYPES.map(([c]) => el('option', { value: 'gs1:' + c,
	    selected: 'gs1:' + c === cur }, `${typeName(c)} · gs1:${c}`));
	if (!LINK_TYPES.some(([c]) => 'gs1:' + c === cur))
		opts.unshift(el('option', { value: cur, selected: true }, cur));
	return el('select', { disabled, 'aria-label': t('ed_link_type') }, opts);
}

Object.assign(A.TEXT.zh, {
	ed_links_of: '链接', ed_links_note: '扫码时按 序列号 → 批号 → 产品 → 品牌 的顺序查找链接；每一层可有一个默认链接。',
	ed_level: '层级', ed_level_brand: '品牌（所有产品）', ed_level_gtin: '产品（按 GTIN）',
	ed_level_sku: '产品（按 SKU）', ed_level_lot: '批号', ed_level_batch: '批次',
	ed_level_serial: '序列号', ed_link_type: '链接类型', ed_link_title: '标题',
	ed_href: '链接地址', ed_hreflang: '页面语言', ed_hreflang_other: '其他（逗号分隔）',
	ed_context: '上下文（可选）', ed_media_type: '媒体类型（可选）',
	ed_default: '本层级的默认链接', ed_type_default: '同类型链接中的默认',
	ed_new_link: '添加链接', ed_edit_link: '编辑链接', ed_delete: '删除',
	ed_confirm_delete_link: '此链接将被删除，扫码不再跳转到它。',
	ed_flags: '默认', ed_rules_note: '扫码为正品时，从上到下第一条满足全部条件的规则生效（批次规则优先，其次按优先级，数字小者先）。假冒、可疑、已作废等结果永远显示 sigil 验证页。',
	ed_new_rule: '添加规则', ed_edit_rule: '编辑规则', ed_order: '顺序',
	ed_priority: '优先级（数字小者先）', ed_when: '条件', ed_always: '总是',
	ed_rule_batch: '适用批次', ed_all_batches: '本产品所有批次',
	ed_langs: '消费者语言（不选 = 任何语言）', ed_wechat: '微信内',
	ed_wechat_any: '不限', ed_wechat_yes: '仅在微信内', ed_wechat_no: '仅在微信外',
	ed_from: '开始时间', ed_until: '结束时间', ed_tz: '时间按本机时区',
	ed_regions: '地区（经销商区域，不选 = 任何地区）',
	ed_no_distributors: '还没有经销商', ed_note: '备注',
	ed_confirm_delete_rule: '此规则将被删除。', ed_lang_is: '语言',
	ed_in_wechat: '在微信内', ed_not_wechat: '不在微信内', ed_region_is: '地区',
	ed_first: '先生效', ed_deleted: '已删除',
	ed_replaces_default: '保存后取代本层级当前的默认链接：',
	ed_replaces_type_default: '保存后取代同类型当前的默认链接：',
	ed_shadowed: '永不生效：被规则覆盖', ed_ended: '已结束', ed_not_started: '未开始',
	ed_live: '生效中', ed_priority_short: '优先级',
});
Object.assign(A.TEXT.en, {
	ed_links_of: 'Links', ed_links_note: 'A scan looks for links from the ' +
	    'serial, to the lot, the product, the brand; each level may have ' +
	    'one default link.',
	ed_level: 'Level', ed_level_brand: 'Brand (every product)',
	ed_level_gtin: 'Product by GTIN', ed_level_sku: 'Product by SKU',
	ed_level_lot: 'Lot', ed_level_batch: 'Batch', ed_level_serial: 'Serial',
	ed_link_type: 'Link type', ed_link_title: 'Title', ed_href: 'Address',
	ed_hreflang: 'Page language', ed_hreflang_other: 'Others (comma-separated)',
	ed_context: 'Context (optional)', ed_media_type: 'Media type (optional)',
	ed_default: 'The default link of its level',
	ed_type_default: 'The default among links of its type',
	ed_new_link: 'Add a link', ed_edit_link: 'Edit link', ed_delete: 'Delete',
	ed_confirm_delete_link: 'This link is deleted; scans no longer go to it.',
	ed_flags: 'Default', ed_rules_note: 'On a genuine scan the first rule ' +
	    'from the top whose conditions all hold applies (batch rules first, ' +
	    'then by priority, lower first). Counterfeit, suspicious, revoked ' +
	    'and other verdicts always show sigil\'s verification page.',
	ed_new_rule: 'Add a rule', ed_edit_rule: 'Edit rule', ed_order: 'Order',
	ed_priority: 'Priority (lower first)', ed_when: 'Conditions',
	ed_always: 'always', ed_rule_batch: 'Batch',
	ed_all_batches: 'every batch of this product',
	ed_langs: 'Consumer language (none = any)', ed_wechat: 'In WeChat',
	ed_wechat_any: 'either', ed_wechat_yes: 'only inside WeChat',
	ed_wechat_no: 'only outside WeChat', ed_from: 'From', ed_until: 'Until',
	ed_tz: 'times in this computer\'s time zone',
	ed_regions: 'Regions (distributor territories; none = anywhere)',
	ed_no_distributors: 'No distributors yet', ed_note: 'Note',
	ed_confirm_delete_rule: 'This rule is deleted.', ed_lang_is: 'language',
	ed_in_wechat: 'in WeChat', ed_not_wechat: 'not in WeChat',
	ed_region_is: 'region', ed_first: 'tried first', ed_deleted: 'Deleted',
	ed_replaces_default: 'Saving replaces the level\'s current default:',
	ed_replaces_type_default: 'Saving replaces the type\'s current default:',
	ed_shadowed: 'never applies: covered by rule', ed_ended: 'ended',
	ed_not_started: 'not started', ed_live: 'live',
	ed_priority_short: 'Priority',
});

/* ---- shared ---- */

/* The UTC offset of this computer, as "UTC+8". */
function tzLabel() {
	const m = -new Date().getTimezoneOffset();
	const s = m < 0 ? '-' : '+';
	const a = Math.abs(m);
	return 'UTC' + s + Math.floor(a / 60) + (a % 60 ? ':' +
	    String(a % 60).padStart(2, '0') : '');
}

/* ISO time -> a datetime-local value in this computer's zone, and back. */
function toLocal(iso) {
	const d = new Date(iso);
	if (!iso || isNaN(d))
		return '';
	const p = (n) => String(n).padStart(2, '0');
	return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}T` +
	    `${p(d.getHours())}:${p(d.getMinutes())}`;
}

function fromLocal(v) {
	const d = new Date(v);
	return v && !isNaN(d) ? d.toISOString().replace(/\.\d{3}Z$/, 'Z') : null;
}

/* ISO dates read the same in every language (review item 12). */
function isoLocal(iso) {
	return toLocal(iso).replace('T', ' ') + ' ' + tzLabel();
}

function langChecks(values, disabled, name) {
	const known = ['zh-CN', 'en'];
	const box = el('div', { class: 'checks', id: name });
	const boxes = known.map((l) => el('input', { type: 'checkbox', value: l,
	    disabled, checked: values.includes(l) }));
	const other = el('input', { size: 14, disabled, 'aria-label':
	    t('ed_hreflang_other'), placeholder: t('ed_hreflang_other'),
	    value: values.filter((v) => !known.includes(v)).join(', ') });
	known.forEach((l, i) => box.appendChild(el('label', { class: 'check' },
	    boxes[i], E.langName(l))));
	box.appendChild(other);
	box.value = () => boxes.filter((b) => b.checked).map((b) => b.value)
	    .concat(other.value.split(/[,，\s]+/).map((x) => x.trim())
	    .filter(Boolean));
	return box;
}

/* A list card, a form slot and a reload for a tab. */
function frame(panel, note) {
	const formBox = el('div', {});
	const list = el('div', { class: 'card' });
	append(panel, [el('p', { class: 'muted' }, note), formBox, list]);
	A.loading(list);
	return { formBox, list };
}

/*
 * The list's heading: what the last change did (said here, in the page,
 * not in a toast that would outlive it), and an error of a delete.
 */
function listHead(S, title, addButton) {
	const status = el('span', { class: 'muted', id: 'ed-list-status' },
	    S.flash || '');
	S.flash = null;
	const error = el('div', { class: 'notice error', hidden: true,
	    id: 'ed-list-error' });
	const bar = el('div', { class: 'toolbar' }, el('h2', {}, title),
	    el('span', { class: 'spacer' }), status, addButton);
	return { bar, error, fail: (e) => {
		error.textContent = A.clean(E.errText(e));
		error.hidden = false;
	} };
}

/* ---- links ---- */

/* The level of a link: [kind, label]. */
function levelOf(k) {
	if (k.serial !== undefined && k.serial !== null && k.serial !== '')
		return ['serial', `${t('ed_level_serial')} ${k.serial}` +
		    (k.lot ? ` · ${t('ed_level_lot')} ${k.lot}` : '')];
	if (k.lot)
		return ['lot', `${t('ed_level_lot')} ${k.lot}`];
	if (k.batch)
		return ['batch', `${t('ed_level_batch')} #${k.batch}`];
	if (k.gtin)
		return ['gtin', `GTIN ${k.gtin}`];
	if (k.sku)
		return ['sku', `SKU ${k.sku}`];
	return ['brand', t('ed_level_brand')];
}

/* The levels a link of this product can be put at. */
function levels(S) {
	const p = S.product;
	const out = [];
	const dl = p.gtin ? [{ key: { gtin: p.gtin }, label: `${t('ed_level_gtin')} ${p.gtin}` }]
	    .concat(S.batches.filter((b) => b.lot).map((b) => ({ key: { gtin: p.gtin,
	    lot: b.lot }, label: `${t('ed_level_lot')} ${b.lot} (#${b.id})` }))) : [];
	const compact = [{ key: { sku: p.sku }, label: `${t('ed_level_sku')} ${p.sku}` }]
	    .concat(S.batches.map((b) => ({ key: { sku: p.sku, batch: b.id },
	    label: `${t('ed_level_batch')} #${b.id}` + (b.lot ? ` · ${b.lot}` : '') })));
	out.push(...(p.gs1 ? dl.concat(compact) : compact.concat(dl)));
	out.push({ key: {}, label: t('ed_level_brand') });
	return out;
}

function sameKey(a, b) {
	const f = (k) => JSON.stringify(['gtin', 'lot', 'serial', 'sku', 'batch']
	    .map((n) => k[n] === undefined || k[n] === null || k[n] === '' ?
	    null : String(k[n])));
	return f(a) === f(b);
}

/*
 * A row's edit and delete buttons: edit calls edit(); delete asks with
 * question, then DELETEs url and reloads, or shows the error in head.
 */
function rowActions(S, head, reload, edit, question, url) {
	return [
		el('button', { type: 'button', class: 'ed-edit',
		    on: { click: edit } }, t('edit')), ' ',
		el('button', { type: 'button', class: 'ed-delete', on: { click: async () => {
			if (!await confirmBox(t('ed_delete'), el('p', {}, question)))
				return;
			try {
				await api('DELETE', url);
				S.flash = t('ed_deleted');
				reload();
			} catch (e) {
				head.fail(e);
			}
		} } }, t('ed_delete'))];
}

function mine(S, l) {
	const p = S.product;
	return (!l.gtin && !l.sku) || (p.gtin && l.gtin === p.gtin) ||
	    l.sku === p.sku;
}

async function linksTab(panel, S) {
	const ro = !S.canEdit;
	const { formBox, list } = frame(panel, t('ed_links_note'));
	const reload = () => {
		clear(panel);
		linksTab(panel, S);
		if (S.refreshAway)
			S.refreshAway();
	};
	let links;
	try {
		links = ((await api('GET', '/api/v1/links')).links || [])
		    .filter((l) => mine(S, l));
	} catch (e) {
		list.dataset.optional = '1';
		A.failure(list, e, reload);
		return;
	}
	const open = (link) => {
		append(clear(formBox), [linkForm(S, link, links, (saved) => {
			clear(formBox);
			if (saved) {
				S.flash = t('ed_saved');
				reload();
			}
		})]);
		formBox.scrollIntoView({ block: 'nearest' });
	};
	const rank = { serial: 0, lot: 1, batch: 1, gtin: 2, sku: 2, brand: 3 };
	links.sort((a, b) => rank[levelOf(a)[0]] - rank[levelOf(b)[0]] ||
	    a.id - b.id);
	clear(list);
	const add = ro ? null : el('button', { type: 'button', class: 'primary',
	    id: 'ed-new-link', on: { click: () => open(null) } }, t('ed_new_link'));
	const head = listHead(S, t('ed_links_of'), add);
	append(list, [head.bar, head.error, A.table([
	    { label: t('ed_level'), render: (l) => levelOf(l)[1] },
	    { label: t('ed_link_type'), render: (l) => [typeName(l.link_type),
	      el('span', { class: 'sub mono' }, l.link_type)] },
	    { label: t('ed_link_title'), render: (l) => [l.title || '–',
	      el('span', { class: 'sub mono' }, l.href)] },
	    { label: t('ed_hreflang'), render: (l) => (l.hreflang || []).join(', ') || '–' },
	    { label: t('ed_flags'), render: (l) => [l.default ? A.pill(t('ed_default'),
	      'ok') : null, l.type_default ? A.pill(t('ed_type_default'), 'info') : null] },
	    { label: t('actions'), render: (l) => ro ? '' : rowActions(S, head,
	      reload, () => open(l), `${l.title}: ${t('ed_confirm_delete_link')}`,
	      `/api/v1/links/${l.id}`) },
	], links)]);
	const tbl = list.querySelector('table');
	if (tbl)
		tbl.id = 'ed-links';
}

function linkForm(S, link, links, done) {
	const lv = levels(S);
	const cur = link || { link_type: 'gs1:pip', hreflang: [], default: false,
	    type_default: false };
	const top = el('div', { class: 'notice error', hidden: true });
	const errs = E.errorPlaces(top);
	const levelSel = el('select', { name: 'level', id: 'ed-link-level' },
	    lv.map((x, i) => el('option', { value: i, selected: link ?
	    sameKey(x.key, link) : i === 0 }, x.label)));
	if (link && !lv.some((x) => sameKey(x.key, link)))
		levelSel.appendChild(el('option', { value: -1, selected: true },
		    levelOf(link)[1]));
	for (const n of ['gtin', 'lot', 'serial', 'sku', 'batch'])
		errs.add(n, levelSel, n);
	const type = errs.add('link_type', linkTypeSelect(cur.link_type, false));
	type.id = 'ed-link-type';
	const input = (name, attrs) => errs.add(name, el('input', Object.assign({
	    name, id: 'ed-link-' + name.replace(/_/g, '-'),
	    value: cur[name] || '' }, attrs)));
	const title = input('title', { required: true, maxlength: 200 });
	const href = input('href', { required: true, maxlength: 2000,
	    placeholder: 'https://' });
	const langs = errs.add('hreflang', langChecks(cur.hreflang || [], false,
	    'ed-link-hreflang'));
	const context = input('context', { maxlength: 200 });
	const media = input('media_type', { maxlength: 100,
	    placeholder: 'text/html' });
	const def = errs.add('default', el('input', { type: 'checkbox',
	    id: 'ed-link-default', checked: !!cur.default }));
	const tdef = errs.add('type_default', el('input', { type: 'checkbox',
	    id: 'ed-link-type-default', checked: !!cur.type_default }));
	/* sigild keeps one default per level (and per type): say which goes. */
	const hint = el('div', { class: 'muted small wide', id: 'ed-link-hint' });
	const keyNow = () => Number(levelSel.value) >= 0 ?
	    lv[Number(levelSel.value)].key : link;
	const drawHint = () => {
		const k = keyNow();
		const others = links.filter((o) => (!link || o.id !== link.id) &&
		    sameKey(o, k));
		const d = def.checked && others.find((o) => o.default);
		const td = tdef.checked && others.find((o) => o.type_default &&
		    o.link_type === type.value);
		hint.textContent = A.clean([d ? t('ed_replaces_default') + ' ' +
		    d.title : '', td ? t('ed_replaces_type_default') + ' ' + td.title :
		    ''].filter(Boolean).join(' · '));
	};
	for (const x of [def, tdef, levelSel, type])
		x.addEventListener('change', drawHint);
	drawHint();
	const form = el('form', { class: 'stack', id: 'ed-link-form' },
	    el('label', {}, t('ed_level'), levelSel),
	    el('label', {}, t('ed_link_type'), type),
	    el('label', {}, t('ed_link_title'), title),
	    el('label', { class: 'wide' }, t('ed_href'), href),
	    el('div', { class: 'wide' }, el('span', { class: 'lbl' }, t('ed_hreflang')),
	    langs),
	    el('label', {}, t('ed_context'), context),
	    el('label', {}, t('ed_media_type'), media),
	    el('label', { class: 'check' }, def, t('ed_default')),
	    el('label', { class: 'check' }, tdef, t('ed_type_default')), hint,
	    el('div', { class: 'actions' },
	    el('button', { type: 'submit', class: 'primary' }, t('save')),
	    el('button', { type: 'button', on: { click: () => done(false) } },
	    t('cancel'))));
	form.addEventListener('submit', async (ev) => {
		ev.preventDefault();
		const req = { link_type: type.value, title: title.value.trim(),
		    href: href.value.trim(), hreflang: langs.value(),
		    default: def.checked, type_default: tdef.checked };
		if (context.value.trim())
			req.context = context.value.trim();
		if (media.value.trim())
			req.media_type = media.value.trim();
		const i = Number(levelSel.value);
		if (i >= 0)
			Object.assign(req, lv[i].key);
		try {
			if (link) {
				/* The level of a link is its identity: not changed here. */
				for (const n of ['gtin', 'lot', 'serial', 'sku', 'batch'])
					delete req[n];
				if (!req.context && link.context)
					req.context = '';
				if (!req.media_type && link.media_type)
					req.media_type = '';
				await api('PATCH', `/api/v1/links/${link.id}`, req);
			} else {
				await api('POST', '/api/v1/links', req);
			}
			done(true);
		} catch (e) {
			errs.show(e);
		}
	});
	if (link)
		levelSel.disabled = true;
	return el('div', { class: 'card' }, el('h2', {}, link ? t('ed_edit_link') :
	    t('ed_new_link')), top, form);
}

/* ---- redirect rules ---- */

/*
 * What a rule does now (review item 5: a setting that can never apply is
 * said so): shadowed by an earlier rule without conditions for the same
 * codes, ended, not started, or live.
 */
function ruleState(r, rules, now) {
	const w = r.when || {};
	const i = rules.indexOf(r);
	const over = rules.slice(0, i).find((o) => Object.keys(o.when || {})
	    .length === 0 && (!o.batch || o.batch === r.batch));
	if (over)
		return A.pill(t('ed_shadowed') + ' #' + (rules.indexOf(over) + 1),
		    'bad');
	if (w.until && Date.parse(w.until) <= now)
		return A.pill(t('ed_ended'), 'warn');
	if (w.from && Date.parse(w.from) > now)
		return A.pill(t('ed_not_started'), 'info');
	return A.pill(t('ed_live'), 'ok');
}

/* The order a scan tries rules in: batch rules, then priority, then id. */
function ruleOrder(a, b) {
	return (b.batch ? 1 : 0) - (a.batch ? 1 : 0) ||
	    (a.priority || 0) - (b.priority || 0) || a.id - b.id;
}

function whenText(S, w) {
	const parts = [];
	if (!w)
		return t('ed_always');
	if (w.lang && w.lang.length)
		parts.push(`${t('ed_lang_is')}: ${w.lang.map(E.langName).join(' / ')}`);
	if (w.wechat === true)
		parts.push(t('ed_in_wechat'));
	if (w.wechat === false)
		parts.push(t('ed_not_wechat'));
	if (w.from || w.until)
		parts.push(`${w.from ? isoLocal(w.from) : '…'} → ` +
		    `${w.until ? isoLocal(w.until) : '…'}`);
	if (w.region && w.region.length)
		parts.push(`${t('ed_region_is')}: ` + w.region.map((id) => {
			const d = S.distributors.find((x) => x.id === id);
			return d ? d.name : '#' + id;
		}).join(' / '));
	return parts.join(' · ') || t('ed_always');
}

async function rulesTab(panel, S) {
	const ro = !S.canEdit;
	const { formBox, list } = frame(panel, t('ed_rules_note'));
	const reload = () => {
		clear(panel);
		rulesTab(panel, S);
	};
	let rules;
	try {
		rules = ((await api('GET', '/api/v1/redirects?sku=' +
		    encodeURIComponent(S.product.sku))).redirects || [])
		    .filter((r) => r.sku === undefined || r.sku === S.product.sku);
	} catch (e) {
		list.dataset.optional = '1';
		A.failure(list, e, reload);
		return;
	}
	rules.sort(ruleOrder);
	const open = (rule) => {
		append(clear(formBox), [ruleForm(S, rule, rules, (saved) => {
			clear(formBox);
			if (saved) {
				S.flash = t('ed_saved');
				reload();
			}
		})]);
		formBox.scrollIntoView({ block: 'nearest' });
	};
	clear(list);
	const add = ro ? null : el('button', { type: 'button', class: 'primary',
	    id: 'ed-new-rule', on: { click: () => open(null) } }, t('ed_new_rule'));
	const head = listHead(S, t('ed_tab_rules'), add);
	const now = Date.now();
	append(list, [head.bar, head.error, A.table([
	    { label: t('ed_order'), render: (r) => [String(rules.indexOf(r) + 1),
	      rules.indexOf(r) === 0 ? el('span', { class: 'sub' }, t('ed_first')) : null] },
	    { label: t('ed_rule_batch'), render: (r) => r.batch ? '#' + r.batch :
	      t('ed_all_batches') },
	    { label: t('ed_priority_short'), key: 'priority', num: true },
	    { label: t('ed_when'), render: (r) => whenText(S, r.when) },
	    { label: t('state'), render: (r) => ruleState(r, rules, now) },
	    { label: t('ed_href'), render: (r) => [el('span', { class: 'mono' }, r.href),
	      r.note ? el('span', { class: 'sub' }, r.note) : null] },
	    { label: t('actions'), render: (r) => ro ? '' : rowActions(S, head,
	      reload, () => open(r), `${r.href}: ${t('ed_confirm_delete_rule')}`,
	      `/api/v1/redirects/${r.id}`) },
	], rules)]);
	const tbl = list.querySelector('table');
	if (tbl)
		tbl.id = 'ed-rules';
}

function ruleForm(S, rule, rules, done) {
	const w = (rule && rule.when) || {};
	const top = el('div', { class: 'notice error', hidden: true });
	const errs = E.errorPlaces(top);
	const batch = errs.add('batch', el('select', { id: 'ed-rule-batch',
	    name: 'batch' }, el('option', { value: '0' }, t('ed_all_batches')),
	    S.batches.map((b) => el('option', { value: b.id, selected: rule &&
	    rule.batch === b.id }, `#${b.id}` + (b.lot ? ` · ${b.lot}` : '')))));
	errs.add('sku', batch);
	const next = rules.reduce((m, r) => Math.max(m, r.priority || 0), 0) + 10;
	const priority = errs.add('priority', el('input', { type: 'number',
	    id: 'ed-rule-priority', step: 1, value: rule ? rule.priority : next }));
	const href = errs.add('href', el('input', { id: 'ed-rule-href',
	    required: true, maxlength: 2000, placeholder: 'https://',
	    value: rule ? rule.href : '' }));
	const langs = errs.add('lang', langChecks(w.lang || [], false,
	    'ed-rule-lang'));
	const wechat = errs.add('wechat', el('select', { id: 'ed-rule-wechat' },
	    [['any', w.wechat === undefined], ['yes', w.wechat === true],
	    ['no', w.wechat === false]].map(([k, on]) => el('option', { value: k,
	    selected: on }, t('ed_wechat_' + k)))));
	const from = errs.add('from', el('input', { type: 'datetime-local',
	    id: 'ed-rule-from', value: toLocal(w.from) }));
	const until = errs.add('until', el('input', { type: 'datetime-local',
	    id: 'ed-rule-until', value: toLocal(w.until) }));
	const regions = el('div', { class: 'checks', id: 'ed-rule-region' },
	    S.distributors.length ? S.distributors.map((d) => el('label',
	    { class: 'check' }, el('input', { type: 'checkbox', value: d.id,
	    checked: (w.region || []).includes(d.id) }), d.name)) :
	    el('span', { class: 'muted' }, t('ed_no_distributors')));
	errs.add('region', regions);
	errs.add('when', langs);
	const note = errs.add('note', el('input', { id: 'ed-rule-note',
	    maxlength: 200, value: rule && rule.note ? rule.note : '' }));
	const form = el('form', { class: 'stack', id: 'ed-rule-form' },
	    el('label', {}, t('ed_rule_batch'), batch),
	    el('label', {}, t('ed_priority'), priority),
	    el('label', { class: 'wide' }, t('ed_href'), href),
	    el('div', { class: 'wide' }, el('span', { class: 'lbl' }, t('ed_langs')),
	    langs),
	    el('label', {}, t('ed_wechat'), wechat),
	    el('label', {}, `${t('ed_from')} (${tzLabel()})`, from),
	    el('label', {}, `${t('ed_until')} (${tzLabel()})`, until),
	    el('div', { class: 'wide' }, el('span', { class: 'lbl' },
	    t('ed_regions')), regions),
	    el('label', { class: 'wide' }, t('ed_note'), note),
	    el('div', { class: 'actions' },
	    el('button', { type: 'submit', class: 'primary' }, t('save')),
	    el('button', { type: 'button', on: { click: () => done(false) } },
	    t('cancel'))));
	form.addEventListener('submit', async (ev) => {
		ev.preventDefault();
		const when = {};
		const ls = langs.value();
		if (ls.length)
			when.lang = ls;
		if (wechat.value !== 'any')
			when.wechat = wechat.value === 'yes';
		if (from.value)
			when.from = fromLocal(from.value);
		if (until.value)
			when.until = fromLocal(until.value);
		const reg = [...regions.querySelectorAll('input:checked')]
		    .map((x) => Number(x.value));
		if (reg.length)
			when.region = reg;
		const req = { sku: S.product.sku, priority: Number(priority.value),
		    href: href.value.trim(), when, note: note.value.trim() };
		if (Number(batch.value))
			req.batch = Number(batch.value);
		try {
			if (rule) {
				if (!req.batch && rule.batch)
					req.batch = null;
				await api('PATCH', `/api/v1/redirects/${rule.id}`, req);
			} else {
				await api('POST', '/api/v1/redirects', req);
			}
			done(true);
		} catch (e) {
			errs.show(e, (f) => f.name !== 'when' ? null : f.sub ? f.sub :
			    /before until/.test(e.message || '') ? 'until' : null);
		}
	});
	return el('div', { class: 'card' }, el('h2', {}, rule ? t('ed_edit_rule') :
	    t('ed_new_rule')), top, form);
}

Object.assign(E, { linksTab, rulesTab, linkTypeSelect, LINK_TYPES });

})();
