/*
 * feedback.js - the brand's feedback inbox (issue 19 item 5; review item
 * 10: "reading consumer feedback: no endpoint at all"): what consumers
 * rated and wrote after a scan, newest first and paged from GET
 * /api/v1/feedback, with the product and lot, the code (a link to its
 * lookup) and the customer (a link to the customer's page, or "not
 * logged in"); filters by rating, product and local dates. An erased
 * customer's text is gone and says so. Replying is issue 21's.
 */
'use strict';

(function () {

const A = window.sigilAdmin, P = window.sigilPeople;
if (!A || !P)
	return;
const { el, append, t, api, when, fmt } = A;

Object.assign(A.TEXT.zh, {
	feedback: '用户反馈', fb_title: '用户反馈', fb_rating: '评分',
	fb_all_ratings: '全部评分', fb_stars: '星', fb_text: '内容',
	fb_time: '时间', fb_customer: '会员', fb_erased: '（会员已删除，内容已清除）',
	fb_empty_text: '（未填写文字）', fb_none: '没有符合条件的反馈',
	fb_bad_range: '开始日期不能晚于结束日期',
});
Object.assign(A.TEXT.en, {
	feedback: 'Feedback', fb_title: 'Feedback', fb_rating: 'Rating',
	fb_all_ratings: 'All ratings', fb_stars: 'stars', fb_text: 'Text',
	fb_time: 'Time', fb_customer: 'Customer',
	fb_erased: '(customer erased; text removed)',
	fb_empty_text: '(no text)', fb_none: 'No feedback matches',
	fb_bad_range: 'The start date is after the end date',
});

function stars(n) {
	return [el('span', { class: 'stars', 'aria-label': `${n} ${t('fb_stars')}`,
	    title: `${n} ${t('fb_stars')}` }, '★'.repeat(n) + '☆'.repeat(5 - n)),
	    el('span', { class: 'sub' }, `${fmt(n)} / 5`)];
}

async function feedbackPage(box) {
	const rating = el('select', { name: 'rating', 'aria-label': t('fb_rating') },
	    el('option', { value: '' }, t('fb_all_ratings')),
	    [5, 4, 3, 2, 1].map((n) => el('option', { value: String(n) },
	    `${'★'.repeat(n)} ${n}`)));
	const range = A.dateRange({ name: 'since', 'aria-label': t('pp_from') },
	    { name: 'until', 'aria-label': t('pp_to') }, t('fb_bad_range'));
	const { from: since, to: until, err } = range;
	const sku = P.productSelect('sku');
	const form = el('form', { class: 'toolbar', id: 'feedback-filters' },
	    el('h1', {}, t('fb_title')), el('span', { class: 'spacer' }),
	    rating, sku, el('label', { class: 'inline' }, t('pp_from'), ' ', since),
	    el('label', { class: 'inline' }, t('pp_to'), ' ', until),
	    el('button', { type: 'submit' }, t('pp_apply')));
	const body = el('div', { class: 'card', id: 'feedback-list' });
	append(box, [form, err, body]);
	const cols = () => [
	    { label: t('fb_time'), render: (f) => when(f.created) },
	    { label: t('fb_rating'), render: (f) => stars(f.rating) },
	    { label: t('fb_text'), render: (f) => f.text === null ?
	      el('span', { class: 'muted' }, t('fb_erased')) : f.text === '' ?
	      el('span', { class: 'muted' }, t('fb_empty_text')) :
	      el('div', { class: 'fb-text' }, f.text) },
	    { label: t('product'), render: (f) => P.productCell(f.product_name,
	      f.sku, f.lot) },
	    { label: t('pp_code'), render: (f) => P.lookupLink(f.url) },
	    { label: t('fb_customer'), render: (f) => P.customerLink(f.customer) }];
	const query = () => {
		const q = new URLSearchParams({ limit: '50', tz: P.tzParam() });
		if (rating.value)
			q.set('rating', rating.value);
		if (sku.value)
			q.set('sku', sku.value);
		if (since.value)
			q.set('since', since.value);
		if (until.value)
			q.set('until', until.value);
		return q;
	};
	const list = P.pagedList(body, 'more-feedback', cols, async (cursor) => {
		const q = query();
		if (cursor)
			q.set('before', String(cursor));
		const d = await api('GET', '/api/v1/feedback?' + q.toString());
		return { rows: d.feedback, next: d.next };
	}, t('fb_none'));
	form.addEventListener('submit', (ev) => {
		ev.preventDefault();
		if (range.ok())
			list.reload();
	});
	list.reload();
}

A.registerPage('feedback', 'customers', feedbackPage, { group: 'customers' });

})();
