/*
 * exports.js - the brand's files (issue 19 item 5; review item 10: scan
 * export was CLI only, the customers CSV English with UTC times): the
 * scans of a range of local dates (GET /api/v1/exports/scans, CSV or
 * NDJSON, by verdict and product, the header in Chinese or English, the
 * times in this browser's zone) and every customer (GET
 * /api/v1/customers/export.csv, Chinese or English, local times), each a
 * download link the server streams, with what the file holds. The scan
 * file holds devices and addresses: operators and admins only, as the
 * API.
 */
'use strict';

(function () {

const A = window.sigilAdmin, P = window.sigilPeople;
if (!A || !P)
	return;
const { el, append, t } = A;

Object.assign(A.TEXT.zh, {
	exports: '数据导出', ex_title: '数据导出',
	ex_scans: '扫码数据', ex_customers: '会员名单',
	ex_scans_what: '每次扫码一行：扫码编号、品牌、序列号、批次、时间（按本机时区，带时区偏移）、结果、是否机器访问、是否首次扫码、设备、IP 地址、位置（消费者分享时）和是否窜货。表头可选中文；内容保持英文代码（genuine、true/false），便于表格和程序处理。服务器逐段输出，数据再多也是完整文件。',
	ex_customers_what: '全部会员（不只是页面已加载的），每人一行：编号、手机号（已打码）、身份、等级、分群、积分余额、近 12 个月积分、领取次数、注册时间、最近登录和删除时间，时间按本机时区。',
	ex_verdict: '结果', ex_all_verdicts: '全部结果', ex_format: '格式',
	ex_lang: '表头语言', ex_zh: '中文', ex_en: 'English',
	ex_download: '下载', ex_csv: 'CSV（Excel 可打开）',
	ex_ndjson: 'NDJSON（每行一个 JSON，适合程序）',
	ex_only: '扫码数据包含设备和 IP 地址，仅运营和管理员可以导出。',
	ex_bad_range: '开始日期不能晚于结束日期', ex_zone: '时区',
	ex_range_all: '不填日期则导出全部扫码。',
});
Object.assign(A.TEXT.en, {
	exports: 'Exports', ex_title: 'Exports',
	ex_scans: 'Scans', ex_customers: 'Customers',
	ex_scans_what: 'One line per scan: scan id, brand, serial, batch, ' +
	    'time (in this browser\'s zone, with its offset), verdict, bot, ' +
	    'first scan, device, IP address, location (when the consumer ' +
	    'shared it) and diversion. The header may be Chinese; the values ' +
	    'stay English codes (genuine, true/false) for spreadsheets and ' +
	    'programs. The server streams the file: it is whole however many ' +
	    'scans there are.',
	ex_customers_what: 'Every customer (not only those loaded in a ' +
	    'page), one a line: id, phone (masked), role, tier, segment, ' +
	    'balance, points in 12 months, claims, joined, last login and ' +
	    'erased, the times in this browser\'s zone.',
	ex_verdict: 'Verdict', ex_all_verdicts: 'All verdicts', ex_format: 'Format',
	ex_lang: 'Header language', ex_zh: '中文', ex_en: 'English',
	ex_download: 'Download', ex_csv: 'CSV (opens in Excel)',
	ex_ndjson: 'NDJSON (one JSON object a line, for programs)',
	ex_only: 'The scan file holds devices and IP addresses: only ' +
	    'operators and admins may export it.',
	ex_bad_range: 'The start date is after the end date', ex_zone: 'Time zone',
	ex_range_all: 'Leave the dates empty for every scan.',
});

const VERDICTS = ['genuine', 'suspicious', 'counterfeit', 'revoked',
    'inactive', 'unverified'];

function langSelect(name) {
	return el('select', { name, 'aria-label': t('ex_lang') },
	    el('option', { value: 'zh', selected: A.lang() === 'zh' }, t('ex_zh')),
	    el('option', { value: 'en', selected: A.lang() !== 'zh' }, t('ex_en')));
}

function scanCard() {
	const range = A.dateRange({ name: 'from', value: P.localDate(-30) },
	    { name: 'to', value: P.localDate(0) }, t('ex_bad_range'));
	const { from, to, err } = range;
	const verdict = el('select', { name: 'verdict', 'aria-label':
	    t('ex_verdict') }, el('option', { value: '' }, t('ex_all_verdicts')),
	    VERDICTS.map((v) => el('option', { value: v }, t(v))));
	const sku = P.productSelect('sku', () => update());
	const format = el('select', { name: 'format', 'aria-label':
	    t('ex_format') }, el('option', { value: 'csv' }, t('ex_csv')),
	    el('option', { value: 'ndjson' }, t('ex_ndjson')));
	const lang = langSelect('lang');
	const link = el('a', { class: 'button primary', id: 'export-scans',
	    download: 'scans.csv' }, t('ex_download'));
	const update = () => {
		link.hidden = !range.ok();
		const q = new URLSearchParams({ format: format.value, tz: P.tzParam() });
		if (from.value)
			q.set('from', from.value);
		if (to.value)
			q.set('to', to.value);
		if (verdict.value)
			q.set('verdict', verdict.value);
		if (sku.value)
			q.set('sku', sku.value);
		if (format.value === 'csv')
			q.set('lang', lang.value);
		lang.disabled = format.value !== 'csv';
		link.setAttribute('href', '/api/v1/exports/scans?' + q.toString());
		link.setAttribute('download', 'scans.' + format.value);
	};
	const form = el('form', { class: 'stack', id: 'scan-export-form',
	    on: { change: update, input: update, submit: (ev) => ev.preventDefault() } },
	    el('label', {}, t('pp_from'), from), el('label', {}, t('pp_to'), to),
	    el('label', {}, t('ex_verdict'), verdict),
	    el('label', {}, t('product'), sku),
	    el('label', {}, t('ex_format'), format),
	    el('label', {}, t('ex_lang'), lang),
	    el('p', { class: 'sub muted small' }, `${t('ex_range_all')} ` +
	    `${t('ex_zone')}: UTC${P.tzParam()}`), err,
	    el('div', { class: 'actions' }, link));
	update();
	return el('div', { class: 'card', id: 'scan-export' },
	    el('h2', {}, t('ex_scans')), el('p', { class: 'muted' },
	    t('ex_scans_what')), A.can.operate() ? form :
	    el('div', { class: 'notice', id: 'scan-export-only' }, t('ex_only')));
}

function customerCard() {
	const lang = langSelect('customer-lang');
	const link = el('a', { class: 'button primary', id: 'export-customers',
	    download: 'customers.csv' }, t('ex_download'));
	const update = () => link.setAttribute('href',
	    '/api/v1/customers/export.csv?' + new URLSearchParams({
	    lang: lang.value, tz: P.tzParam() }).toString());
	lang.addEventListener('change', update);
	update();
	return el('div', { class: 'card', id: 'customer-export' },
	    el('h2', {}, t('ex_customers')), el('p', { class: 'muted' },
	    t('ex_customers_what')), el('form', { class: 'stack',
	    on: { submit: (ev) => ev.preventDefault() } },
	    el('label', {}, t('ex_lang'), lang),
	    el('div', { class: 'actions' }, link)));
}

/* The consent ledger's export (privacy.js has its words). */
function consentCard() {
	return el('div', { class: 'card', id: 'consent-export' },
	    el('h2', {}, t('pv_export')), el('p', { class: 'muted' },
	    t('pv_export_what')), A.can.admin() ? el('div', { class: 'actions' },
	    el('a', { class: 'button primary', id: 'export-consents',
	    href: '/api/v1/exports/consents?format=csv',
	    download: 'consents.csv' }, t('ex_download'))) :
	    el('div', { class: 'notice' }, t('pv_admin_only')));
}

async function exportsPage(box) {
	append(box, [el('div', { class: 'toolbar' }, el('h1', {}, t('ex_title'))),
	    el('div', { class: 'grid two' }, scanCard(), customerCard(),
	    consentCard())]);
}

A.registerPage('exports', 'feedback', exportsPage, { group: 'customers',
    ownNote: true });

})();
