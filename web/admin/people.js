/*
 * people.js - what the dashboard's pages about people share (customer.js,
 * orders.js, feedback.js, exports.js): errors shown by their code in the
 * page's language (never the server's English), a list the server pages
 * drawn with a "more" button until its last page, the browser's UTC
 * offset for the server's ?tz=, local dates, and the brand's products
 * for a picker.
 *
 * Loaded after app.js and before those pages; it uses window.sigilAdmin
 * and offers window.sigilPeople. Text reaches the page as text only.
 */
'use strict';

(function () {

const A = window.sigilAdmin;
if (!A)
	return;
const { el, append, clear, t, api } = A;

Object.assign(A.TEXT.zh, {
	pp_err_generic: '出错了，请稍后重试',
	pp_err_forbidden: '当前角色无权查看或操作',
	pp_err_not_found: '没有找到',
	pp_err_bad_query: '筛选条件有误，请检查后重试',
	pp_err_unknown_sku: '没有这个产品',
	pp_err_rate_limited: '请求过于频繁，请稍后再试',
	pp_err_unavailable: '服务暂时不可用，请稍后重试',
	pp_err_already_fulfilled: '此订单已经处理过了',
	pp_err_already_erased: '此会员的个人数据已删除',
	pp_err_csrf: '登录状态已过期，请刷新页面',
	pp_retry: '重试', pp_all: '全部', pp_all_products: '全部产品',
	pp_from: '开始日期', pp_to: '结束日期', pp_apply: '筛选',
	pp_anonymous: '未登录用户', pp_lookup: '查码', pp_code: '码',
});
Object.assign(A.TEXT.en, {
	pp_err_generic: 'Something went wrong; please try again',
	pp_err_forbidden: 'Your role may not see or do this',
	pp_err_not_found: 'Not found',
	pp_err_bad_query: 'A filter is not valid; please check it',
	pp_err_unknown_sku: 'No such product',
	pp_err_rate_limited: 'Too many requests; please wait a moment',
	pp_err_unavailable: 'The service is unavailable; please try again',
	pp_err_already_fulfilled: 'This order was fulfilled already',
	pp_err_already_erased: 'This customer\'s data was erased already',
	pp_err_csrf: 'Your session has expired; please reload the page',
	pp_retry: 'Retry', pp_all: 'All', pp_all_products: 'All products',
	pp_from: 'From', pp_to: 'To', pp_apply: 'Filter',
	pp_anonymous: 'Not logged in', pp_lookup: 'Look up', pp_code: 'Code',
});

/* An error as the page's language says it: by its code (these texts
 * first, then app.js's), never the server's English in zh. */
function errText(e) {
	return A.errText(e, 'pp_err_');
}

function failBox(box, e, again) {
	append(clear(box), [el('div', { class: 'notice error', role: 'alert' },
	    errText(e), ' ', again ? el('button', { type: 'button',
	    on: { click: again } }, t('pp_retry')) : null)]);
}

/* The browser's UTC offset, "+08:00", as the server's ?tz= takes it. */
function tzParam() {
	const m = -new Date().getTimezoneOffset(), a = Math.abs(m);
	return (m < 0 ? '-' : '+') + String(Math.floor(a / 60)).padStart(2, '0') +
	    ':' + String(a % 60).padStart(2, '0');
}

/* A local date, YYYY-MM-DD, days from today. */
function localDate(days) {
	const d = new Date();
	d.setDate(d.getDate() + (days || 0));
	return `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, '0')}-` +
	    String(d.getDate()).padStart(2, '0');
}

/* A list the server pages (A.pagedList), its errors in these texts. */
function pagedList(box, id, cols, fetchPage, empty) {
	return A.pagedList(box, id, cols, fetchPage, { empty, fail: failBox });
}

/* The brand's products [{sku, name}] for a picker: GET products (paged),
 * or, where that is not served, the SKUs of the brand's batches. */
async function products() {
	try {
		let all = [], after = null;
		for (let i = 0; i < 100; i++) {
			const d = await api('GET', '/api/v1/products?limit=1000' +
			    (after ? '&after=' + encodeURIComponent(after) : ''));
			all = all.concat(d.products || []);
			after = d.next;
			if (!after)
				return all;
		}
		return all;
	} catch (e) {
		const d = await api('GET', '/api/v1/batches');
		const skus = [...new Set((d.batches || []).map((b) => b.sku))].sort();
		return Promise.all(skus.map(async (sku) => {
			try {
				return await api('GET', '/api/v1/products/' +
				    encodeURIComponent(sku));
			} catch (e2) {
				return { sku, name: sku };
			}
		}));
	}
}

/* A product filter: "all products", then the brand's products as they
 * arrive (a pick made meanwhile kept), and filled() once they have. */
function productSelect(name, filled) {
	const sel = el('select', { name, 'aria-label': t('product') },
	    el('option', { value: '' }, t('pp_all_products')));
	products().then((list) => {
		const picked = sel.value;
		append(sel, list.map((p) => el('option', { value: p.sku },
		    `${p.name} (${p.sku})`)));
		sel.value = picked;
		if (filled)
			filled();
	}).catch(() => {});
	return sel;
}

/* A product cell: name, then SKU and lot. */
function productCell(name, sku, lot) {
	if (!sku)
		return '–';
	return [name || sku, el('span', { class: 'sub' },
	    `${sku}${lot ? ` · ${t('lot')} ${lot}` : ''}`)];
}

function lookupLink(url) {
	return url ? el('a', { href: '#/lookup?code=' + encodeURIComponent(url),
	    class: 'lookup-link' }, t('pp_lookup')) : '–';
}

function customerLink(id) {
	return id === null || id === undefined ?
	    el('span', { class: 'muted' }, t('pp_anonymous')) :
	    el('a', { href: '#/customer?id=' + id, class: 'customer-link' },
	    `#${id}`);
}

/*
 * Cards the customer page shows below its profile, in this order: each
 * a function (customer, apiBase) returning an element or null. Files
 * loaded after this one push theirs (identities, consent, profile).
 */
const customerBlocks = [];

window.sigilPeople = Object.freeze({ errText, failBox, tzParam, localDate,
	pagedList, products, productSelect, productCell, lookupLink,
	customerLink, customerBlocks });

})();
