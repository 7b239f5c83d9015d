/*
 * feedback.js - the brand's feedback inbox and satisfaction (issue 19
 * item 5, issue 21 item 4): what consumers rated, wrote or reported
 * after a scan, newest first and paged from GET /api/v1/feedback, with
 * the product and lot, the code (a link to its lookup), the customer (a
 * link to the customer's page, or "not logged in"), the status (open,
 * replied, closed), the brand's reply and a fake report's photo; filters
 * by rating, product, status, kind and local dates. An operator replies
 * (the server sends the reply to the customer's message channel) or
 * closes. Above the list, the satisfaction of the same product over the
 * last 90 days (GET /api/v1/stats/satisfaction: average, NPS-style
 * score, counts per day or week, an ECharts chart) and, for an admin,
 * the rating-drop alert's thresholds. An erased customer's text is gone
 * and says so.
 */
'use strict';

(function () {

const A = window.sigilAdmin, P = window.sigilPeople;
if (!A || !P)
	return;
const { el, append, clear, t, api, when, fmt, can, toast } = A;

Object.assign(A.TEXT.zh, {
	feedback: '用户反馈', fb_title: '用户反馈', fb_rating: '评分',
	fb_all_ratings: '全部评分', fb_stars: '星', fb_text: '内容',
	fb_time: '时间', fb_customer: '会员', fb_erased: '（会员已删除，内容已清除）',
	fb_empty_text: '（未填写文字）', fb_none: '没有符合条件的反馈',
	fb_bad_range: '开始日期不能晚于结束日期',
	fb_all_status: '全部状态', fb_open: '待处理', fb_replied: '已回复',
	fb_closed: '已关闭', fb_all_kinds: '全部类型', fb_kind_rating: '评价',
	fb_kind_fake: '假货举报', fb_status: '状态', fb_kind: '类型',
	fb_where: '购买地点：', fb_photo: '照片', fb_reply: '回复',
	fb_close: '关闭', fb_reply_title: '回复用户',
	fb_reply_note: '回复将通过用户的消息渠道（短信或微信）发送。',
	fb_reply_text: '回复内容（最多 500 字）', fb_reply_sent: '回复已发送',
	fb_reply_saved: '回复已保存（该用户未登录，无法发送）',
	fb_closed_ok: '已关闭', fb_close_title: '关闭这条反馈？',
	fb_close_body: '关闭后不能再回复。', fb_actions: '操作',
	fb_your_reply: '品牌回复：', fb_err_closed: '这条反馈已关闭',
	fb_sat: '满意度（近 90 天）', fb_avg: '平均评分', fb_nps: '净推荐值',
	fb_count: '评价数', fb_fakes: '假货举报', fb_by_day: '按天',
	fb_by_week: '按周', fb_no_lib: '图表组件未加载。',
	fb_series_avg: '平均评分', fb_series_count: '评价数',
	fb_drop: '评分下降提醒', fb_drop_min: '最少评价数',
	fb_drop_points: '下降（分）', fb_drop_save: '保存',
	fb_drop_note: '近 7 天平均分比之前 30 天低出该值时提醒（两段各至少达到最少评价数）。',
	fb_drop_saved: '已保存', fb_nps_note: '5 星占比减去 1–3 星占比',
	fb_by_sku: '各产品', fb_sku: '产品',
});
Object.assign(A.TEXT.en, {
	feedback: 'Feedback', fb_title: 'Feedback', fb_rating: 'Rating',
	fb_all_ratings: 'All ratings', fb_stars: 'stars', fb_text: 'Text',
	fb_time: 'Time', fb_customer: 'Customer',
	fb_erased: '(customer erased; text removed)',
	fb_empty_text: '(no text)', fb_none: 'No feedback matches',
	fb_bad_range: 'The start date is after the end date',
	fb_all_status: 'Any status', fb_open: 'Open', fb_replied: 'Replied',
	fb_closed: 'Closed', fb_all_kinds: 'Any kind', fb_kind_rating: 'Rating',
	fb_kind_fake: 'Fake report', fb_status: 'Status', fb_kind: 'Kind',
	fb_where: 'Bought at: ', fb_photo: 'Photo', fb_reply: 'Reply',
	fb_close: 'Close', fb_reply_title: 'Reply to the customer',
	fb_reply_note: 'The reply goes to the customer\'s message channel ' +
	    '(SMS or WeChat).',
	fb_reply_text: 'Reply (up to 500 characters)', fb_reply_sent: 'Reply sent',
	fb_reply_saved: 'Reply saved (the customer never logged in: not sent)',
	fb_closed_ok: 'Closed', fb_close_title: 'Close this feedback?',
	fb_close_body: 'A closed entry takes no reply.', fb_actions: 'Actions',
	fb_your_reply: 'Our reply: ', fb_err_closed: 'This feedback is closed',
	fb_sat: 'Satisfaction (last 90 days)', fb_avg: 'Average rating',
	fb_nps: 'NPS-style score', fb_count: 'Ratings', fb_fakes: 'Fake reports',
	fb_by_day: 'By day', fb_by_week: 'By week',
	fb_no_lib: 'The chart library is not loaded.',
	fb_series_avg: 'Average rating', fb_series_count: 'Ratings',
	fb_drop: 'Rating-drop alert', fb_drop_min: 'Minimum ratings',
	fb_drop_points: 'Drop (points)', fb_drop_save: 'Save',
	fb_drop_note: 'Alert when the last 7 days average this much below the ' +
	    '30 days before (each with at least the minimum ratings).',
	fb_drop_saved: 'Saved', fb_nps_note: 'share of 5s minus share of 1–3s',
	fb_by_sku: 'By product', fb_sku: 'Product',
});

function stars(n) {
	return [el('span', { class: 'stars', 'aria-label': `${n} ${t('fb_stars')}`,
	    title: `${n} ${t('fb_stars')}` }, '★'.repeat(n) + '☆'.repeat(5 - n)),
	    el('span', { class: 'sub' }, `${fmt(n)} / 5`)];
}

const STATUS_PILL = { open: 'warn', replied: 'ok', closed: null };

/* The text column: text, where bought, photo, our reply. */
function textCell(f) {
	const out = [];
	if (f.kind === 'fake' && f.where)
		out.push(el('div', { class: 'fb-where' }, t('fb_where'), f.where));
	out.push(f.text === null ? el('span', { class: 'muted' }, t('fb_erased')) :
	    f.text === '' ? el('span', { class: 'muted' }, t('fb_empty_text')) :
	    el('div', { class: 'fb-text' }, f.text));
	if (f.photo) {
		/* The brand's own session fetches it: same origin, image only. */
		const img = el('img', { class: 'fb-photo', title: t('fb_photo'),
		    id: `fb-photo-${f.id}` });
		img.alt = t('fb_photo');
		img.src = f.photo;
		out.push(el('a', { href: f.photo, class: 'fb-photo-link' }, img));
	}
	if (f.reply)
		out.push(el('div', { class: 'fb-reply' }, el('strong', {},
		    t('fb_your_reply')), f.reply));
	return out;
}

function chartBox(rows) {
	const box = el('div', { class: 'ov-chart', id: 'fb-chart' });
	if (!window.echarts) {
		box.appendChild(el('p', { class: 'empty' }, t('fb_no_lib')));
		return box;
	}
	const c = window.echarts.init(box, null, { renderer: 'svg' });
	c.setOption({
		animation: false,
		color: ['#1f6feb', '#d4a72c'],
		grid: { left: 8, right: 16, top: 16, bottom: 40, containLabel: true },
		legend: { bottom: 0, textStyle: { fontSize: 12 } },
		tooltip: { trigger: 'axis', renderMode: 'richText' },
		xAxis: { type: 'category', data: rows.map((r) => r.start),
		    axisLabel: { fontSize: 12, hideOverlap: true } },
		yAxis: [{ type: 'value', min: 0, max: 5, interval: 1,
		    axisLabel: { fontSize: 12 } },
		    { type: 'value', minInterval: 1, axisLabel: { fontSize: 12,
		    formatter: (v) => fmt(v) } }],
		series: [
			{ type: 'line', name: t('fb_series_avg'), connectNulls: true,
			  data: rows.map((r) => r.average), showSymbol:
			  rows.filter((r) => r.average !== null).length <= 60 },
			{ type: 'bar', name: t('fb_series_count'), yAxisIndex: 1,
			  data: rows.map((r) => r.count), barMaxWidth: 14 },
		],
	});
	A.chartFollow(box, c);
	return box;
}

function num(v, digits) {
	return v === null || v === undefined ? '–' : Number(v).toFixed(digits);
}

/* The satisfaction card for the filters' product (sku) or all. */
async function satisfaction(card, sku, weekSel) {
	const week = weekSel.value === 'week';
	const head = () => el('div', { class: 'toolbar' }, el('h2', {},
	    t('fb_sat')), el('span', { class: 'spacer' }), weekSel);
	append(clear(card), [head(), el('p', { class: 'muted' }, '…')]);
	const q = new URLSearchParams({ tz: P.tzParam(), interval: week ? 'week' :
	    'day' });
	if (sku)
		q.set('sku', sku);
	let s;
	try {
		s = await api('GET', '/api/v1/stats/satisfaction?' + q.toString());
	} catch (e) {
		append(clear(card), [head(), el('p',
		    { class: 'field-error', role: 'alert' }, A.errText(e))]);
		return;
	}
	const tile = (label, value, note) => el('div', { class: 'fb-tile' },
	    el('div', { class: 'muted small' }, label),
	    el('div', { class: 'fb-big' }, value),
	    note ? el('div', { class: 'muted small' }, note) : null);
	const by = s.by_sku.length > 1 ? A.table([
	    { label: t('fb_sku'), render: (g) => P.productCell(g.product_name,
	      g.sku, null) },
	    { label: t('fb_count'), key: 'count', num: true },
	    { label: t('fb_avg'), render: (g) => num(g.average, 2) },
	    { label: t('fb_nps'), render: (g) => num(g.nps, 1) }], s.by_sku) : null;
	append(clear(card), [head(),
	    el('div', { class: 'fb-tiles', id: 'fb-sat' },
	    tile(t('fb_avg'), num(s.average, 2)),
	    tile(t('fb_nps'), num(s.nps, 1), t('fb_nps_note')),
	    tile(t('fb_count'), fmt(s.count)),
	    tile(t('fb_fakes'), fmt(s.fakes))),
	    chartBox(s.series),
	    by ? [el('h3', {}, t('fb_by_sku')), by] : null]);
}

/* An admin's thresholds of the rating-drop alert. */
async function dropSettings(card) {
	let s;
	try {
		s = await api('GET', '/api/v1/feedback/settings');
	} catch (e) {
		append(clear(card), [el('p', { class: 'field-error', role: 'alert' },
		    A.errText(e))]);
		return;
	}
	const min = el('input', { type: 'number', name: 'min_ratings', min: '1',
	    max: '10000', value: String(s.min_ratings),
	    'aria-label': t('fb_drop_min') });
	const drop = el('input', { type: 'number', name: 'drop', min: '0.1',
	    max: '4', step: '0.1', value: String(s.drop),
	    'aria-label': t('fb_drop_points') });
	const msg = el('span', { class: 'muted small', role: 'status' });
	const form = el('form', { class: 'toolbar', id: 'fb-drop' },
	    el('strong', {}, t('fb_drop')),
	    el('label', { class: 'inline' }, t('fb_drop_min'), ' ', min),
	    el('label', { class: 'inline' }, t('fb_drop_points'), ' ', drop),
	    el('button', { type: 'submit' }, t('fb_drop_save')), msg);
	form.addEventListener('submit', async (ev) => {
		ev.preventDefault();
		try {
			await api('PUT', '/api/v1/feedback/settings', {
				min_ratings: Number(min.value), drop: Number(drop.value) });
			msg.textContent = t('fb_drop_saved');
		} catch (e) {
			msg.textContent = A.errText(e);
		}
	});
	append(clear(card), [form, el('p', { class: 'muted small' },
	    t('fb_drop_note'))]);
}

async function reply(f, list) {
	const text = el('textarea', { name: 'reply', maxlength: '500',
	    id: 'fb-reply-text', 'aria-label': t('fb_reply_text'),
	    placeholder: t('fb_reply_text') });
	text.rows = 4;
	const body = el('div', {}, el('p', { class: 'muted' }, t('fb_reply_note')),
	    text);
	setTimeout(() => text.focus(), 0);
	if (!await A.confirmBox(t('fb_reply_title'), body))
		return;
	try {
		const d = await api('POST', `/api/v1/feedback/${f.id}/reply`,
		    { text: text.value });
		toast(d.delivered ? t('fb_reply_sent') : t('fb_reply_saved'));
		list.reload();
	} catch (e) {
		toast(A.errText(e, 'fb_err_'), true);
	}
}

async function closeOne(f, list) {
	if (!await A.confirmBox(t('fb_close_title'), el('p', {},
	    t('fb_close_body'))))
		return;
	try {
		await api('POST', `/api/v1/feedback/${f.id}/close`);
		toast(t('fb_closed_ok'));
		list.reload();
	} catch (e) {
		toast(A.errText(e, 'fb_err_'), true);
	}
}

async function feedbackPage(box) {
	const rating = el('select', { name: 'rating', 'aria-label': t('fb_rating') },
	    el('option', { value: '' }, t('fb_all_ratings')),
	    [5, 4, 3, 2, 1].map((n) => el('option', { value: String(n) },
	    `${'★'.repeat(n)} ${n}`)));
	const status = el('select', { name: 'status', 'aria-label': t('fb_status') },
	    el('option', { value: '' }, t('fb_all_status')),
	    ['open', 'replied', 'closed'].map((s) => el('option', { value: s },
	    t('fb_' + s))));
	const kind = el('select', { name: 'kind', 'aria-label': t('fb_kind') },
	    el('option', { value: '' }, t('fb_all_kinds')),
	    el('option', { value: 'rating' }, t('fb_kind_rating')),
	    el('option', { value: 'fake' }, t('fb_kind_fake')));
	const range = A.dateRange({ name: 'since', 'aria-label': t('pp_from') },
	    { name: 'until', 'aria-label': t('pp_to') }, t('fb_bad_range'));
	const { from: since, to: until, err } = range;
	const sku = P.productSelect('sku');
	const week = el('select', { name: 'interval', id: 'fb-interval',
	    'aria-label': t('fb_by_week') },
	    el('option', { value: 'day' }, t('fb_by_day')),
	    el('option', { value: 'week' }, t('fb_by_week')));
	const form = el('form', { class: 'toolbar', id: 'feedback-filters' },
	    el('h1', {}, t('fb_title')), el('span', { class: 'spacer' }),
	    rating, status, kind, sku,
	    el('label', { class: 'inline' }, t('pp_from'), ' ', since),
	    el('label', { class: 'inline' }, t('pp_to'), ' ', until),
	    el('button', { type: 'submit' }, t('pp_apply')));
	const sat = el('div', { class: 'card', id: 'feedback-satisfaction' });
	const drop = can.admin() ? el('div', { class: 'card',
	    id: 'feedback-drop' }) : null;
	const body = el('div', { class: 'card', id: 'feedback-list' });
	append(box, [form, err, sat, drop, body]);
	let list = null;
	const cols = () => [
	    { label: t('fb_time'), render: (f) => when(f.created) },
	    { label: t('fb_kind'), render: (f) => f.kind === 'fake' ?
	      A.pill(t('fb_kind_fake'), 'bad') : stars(f.rating) },
	    { label: t('fb_text'), render: textCell },
	    { label: t('product'), render: (f) => P.productCell(f.product_name,
	      f.sku, f.lot) },
	    { label: t('pp_code'), render: (f) => P.lookupLink(f.url) },
	    { label: t('fb_customer'), render: (f) => P.customerLink(f.customer) },
	    { label: t('fb_status'), render: (f) => A.pill(t('fb_' + f.status),
	      STATUS_PILL[f.status]) },
	    { label: t('fb_actions'), render: (f) => can.operate() &&
	      f.status !== 'closed' ? el('span', { class: 'fb-actions' },
	      el('button', { type: 'button', class: 'fb-reply-btn',
	      id: `fb-reply-${f.id}`, on: { click: () => reply(f, list) } },
	      t('fb_reply')), ' ',
	      el('button', { type: 'button', class: 'fb-close-btn secondary',
	      id: `fb-close-${f.id}`, on: { click: () => closeOne(f, list) } },
	      t('fb_close'))) : null }];
	const query = () => {
		const q = new URLSearchParams({ limit: '50', tz: P.tzParam() });
		for (const [k, v] of [['rating', rating], ['status', status],
		    ['kind', kind], ['sku', sku], ['since', since],
		    ['until', until]])
			if (v.value)
				q.set(k, v.value);
		return q;
	};
	list = P.pagedList(body, 'more-feedback', cols, async (cursor) => {
		const q = query();
		if (cursor)
			q.set('before', String(cursor));
		const d = await api('GET', '/api/v1/feedback?' + q.toString());
		return { rows: d.feedback, next: d.next };
	}, t('fb_none'));
	form.addEventListener('submit', (ev) => {
		ev.preventDefault();
		if (range.ok()) {
			list.reload();
			satisfaction(sat, sku.value, week);
		}
	});
	week.addEventListener('change', () => satisfaction(sat, sku.value, week));
	list.reload();
	satisfaction(sat, '', week);
	if (drop)
		dropSettings(drop);
}

A.registerPage('feedback', 'customers', feedbackPage, { group: 'customers' });

})();
