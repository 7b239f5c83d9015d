/*
 * payouts.js - the dashboard's cash page (issue 22): each cash
 * campaign's budget and where its money stands (reserved, paid, on its
 * way, held, failed or rejected: returned), the hold queue with approve
 * and reject (admins), every payout filtered by campaign, state and day,
 * the daily statement as a CSV (WeChat Pay's transfer-bill columns) and
 * a reconciliation against WeChat Pay (operators), and the payment
 * settings: the merchant account and its keys (admins).
 *
 * API: GET /api/v1/payouts/cash, GET /api/v1/payouts (?state=&campaign=
 * &date=&before=), POST /api/v1/payouts/{claim}/approve and /reject,
 * GET /api/v1/payouts/statement.csv, POST /api/v1/payouts/reconcile,
 * GET and PUT /api/v1/payments/settings, PUT /api/v1/payments/keys.
 *
 * Also the customer page's card (window.sigilPeople.customerBlocks): the
 * customer's red packets, shown when there are any.
 *
 * The keys are write-only: the form sends them and clears its fields;
 * the page shows only whether each is set and the private key's
 * fingerprint, as the API answers.
 */
'use strict';

(function () {

const A = window.sigilAdmin;
if (!A)
	return;
const { el, append, clear, t, api, can, toast, confirmBox, loading, failure,
    table, pagedList, when, fmt } = A;

Object.assign(A.TEXT.zh, {
	payouts: '现金红包', po_title: '现金红包（微信支付商家转账）',
	po_campaigns: '各活动现金', po_campaign: '活动', po_budget: '预算',
	po_reserved: '已占用', po_remaining: '剩余', po_paid: '已到账',
	po_pending: '发放中', po_held: '待审核', po_failed: '失败/驳回（已退回）',
	po_no_campaigns: '还没有带现金奖品的活动',
	po_queue: '待审核的红包', po_queue_empty: '没有待审核的红包',
	po_approve: '通过', po_reject: '驳回', po_approved: '已通过，正在发放',
	po_rejected: '已驳回，金额已退回预算',
	po_reject_q: '驳回这笔红包？金额将退回活动预算，此操作不可撤销。',
	po_reason: '驳回原因（可选）', po_admin_only: '只有管理员可以审核红包。',
	po_list: '发放记录', po_claim: '领取编号', po_customer: '会员',
	po_amount: '金额（元）', po_state: '状态', po_wx: '微信状态',
	po_bill: '微信转账单号', po_out: '商户单号', po_score: '风险分',
	po_reasons: '原因', po_created: '时间', po_all: '全部',
	po_s_held: '待审核', po_s_pending: '待发送', po_s_accepted: '微信处理中',
	po_s_paid: '已到账', po_s_failed: '失败（已退回）', po_s_rejected: '已驳回（已退回）',
	po_date: '日期（北京时间）', po_filter: '筛选',
	po_statement: '对账单', po_csv: '下载对账单 CSV',
	po_statement_note: 'CSV 的前几列与微信支付商户平台的商家转账账单一致（商户单号、微信转账单号、转账金额(元)、状态、收款用户OpenID、创建时间、更新时间），再加上 sigil 的领取、活动和会员编号。',
	po_reconcile: '与微信支付对账', po_reconciled: '对账完成：核对 {c} 笔，一致 {m} 笔，不一致 {x} 笔，未能核对 {e} 笔',
	po_settings: '支付设置', po_mchid: '商户号', po_appid: 'AppID（收款用户 openid 所属）',
	po_serial: 'API 证书序列号', po_pubid: '微信支付公钥 ID（PUB_KEY_ID_…）',
	po_pubkey: '微信支付公钥（PEM）', po_scene: '转账场景 ID', po_remark: '转账备注（用户可见）',
	po_activity: '活动名称（报备信息）', po_reward: '奖励说明（报备信息）',
	po_keys: '商户密钥', po_key_pem: '商户 API 私钥（apiclient_key.pem 的内容）',
	po_v3: 'APIv3 密钥（32 位）', po_keys_save: '写入密钥', po_keys_saved: '密钥已写入密钥环',
	po_key_set: '已设置', po_key_none: '未设置', po_fp: '指纹',
	po_notify: '回调地址', po_notify_none: '（未设置 --base-url：微信支付无法回调，只能定时查单）',
	po_keys_note: '密钥只写入服务器的密钥环文件，不进数据库、不出现在页面、日志、审计记录或导出中；此处只显示是否已设置及公钥指纹。',
	po_settings_admin_only: '只有管理员可以查看和修改支付设置。',
	po_err_not_held: '这笔红包已经审核过了', po_err_no_settings: '请先保存支付设置',
	po_err_running: '对账正在进行，请稍后再试',
	po_customer_card: '现金红包',
});
Object.assign(A.TEXT.en, {
	payouts: 'Cash', po_title: 'Cash rewards (WeChat Pay merchant transfer)',
	po_campaigns: 'Cash by campaign', po_campaign: 'Campaign', po_budget: 'Budget',
	po_reserved: 'Reserved', po_remaining: 'Left', po_paid: 'Paid',
	po_pending: 'On its way', po_held: 'Held', po_failed: 'Failed or rejected (returned)',
	po_no_campaigns: 'No campaign has a cash prize yet',
	po_queue: 'Held for review', po_queue_empty: 'Nothing is held',
	po_approve: 'Approve', po_reject: 'Reject', po_approved: 'Approved: it is being paid',
	po_rejected: 'Rejected: the amount is back in the budget',
	po_reject_q: 'Reject this payout? Its amount goes back to the campaign budget; this cannot be undone.',
	po_reason: 'Reason (optional)', po_admin_only: 'Only an admin may approve or reject payouts.',
	po_list: 'Payouts', po_claim: 'Claim', po_customer: 'Customer',
	po_amount: 'Amount (yuan)', po_state: 'State', po_wx: 'WeChat state',
	po_bill: 'WeChat bill no.', po_out: 'Our bill no.', po_score: 'Score',
	po_reasons: 'Reasons', po_created: 'When', po_all: 'All',
	po_s_held: 'Held', po_s_pending: 'To send', po_s_accepted: 'At WeChat',
	po_s_paid: 'Paid', po_s_failed: 'Failed (returned)', po_s_rejected: 'Rejected (returned)',
	po_date: 'Day (China time)', po_filter: 'Filter',
	po_statement: 'Statement', po_csv: 'Download statement CSV',
	po_statement_note: "The CSV's first columns are those of the WeChat Pay merchant platform's transfer bill (out bill no., WeChat bill no., amount in yuan, state, payee openid, created, updated), then sigil's claim, campaign and customer ids.",
	po_reconcile: 'Reconcile with WeChat Pay', po_reconciled: 'Reconciled: {c} checked, {m} matched, {x} mismatched, {e} not checked',
	po_settings: 'Payment settings', po_mchid: 'Merchant id', po_appid: "AppID (the payees' openids')",
	po_serial: 'API certificate serial', po_pubid: 'WeChat Pay public key id (PUB_KEY_ID_…)',
	po_pubkey: 'WeChat Pay public key (PEM)', po_scene: 'Transfer scene id', po_remark: 'Transfer remark (the payee sees it)',
	po_activity: 'Activity name (report info)', po_reward: 'Reward description (report info)',
	po_keys: 'Merchant keys', po_key_pem: 'Merchant API private key (apiclient_key.pem)',
	po_v3: 'APIv3 key (32 characters)', po_keys_save: 'Store the keys', po_keys_saved: 'Keys stored in the keyring',
	po_key_set: 'set', po_key_none: 'not set', po_fp: 'fingerprint',
	po_notify: 'Notify URL', po_notify_none: '(no --base-url: WeChat Pay cannot call back; bills are queried instead)',
	po_keys_note: "The keys go only to the server's keyring file: never the database, a page, a log, the audit trail or an export. This page shows only whether each is set and the key's fingerprint.",
	po_settings_admin_only: 'Only an admin may see and change the payment settings.',
	po_err_not_held: 'This payout was decided already', po_err_no_settings: 'Save the payment settings first',
	po_err_running: 'A reconciliation is running; try again shortly',
	po_customer_card: 'Red packets',
});

const STATES = ['held', 'pending', 'accepted', 'paid', 'failed', 'rejected'];
const yuan = (fen) => (Number(fen) / 100).toFixed(2);
const err = (e) => A.errText(e, 'po_err_');
/* Today in China (UTC+8), YYYY-MM-DD: the day statements count in. */
const chinaToday = () => new Date(Date.now() + 8 * 3600e3).toISOString()
    .slice(0, 10);

function money(s) {
	return s ? `${fmt(s.count)} · ¥${yuan(s.fen)}` : '–';
}

function sum(a, b) {
	return { count: (a ? a.count : 0) + (b ? b.count : 0),
		fen: (a ? a.fen : 0) + (b ? b.fen : 0) };
}

function campaignsCard(list) {
	return el('div', { class: 'card', id: 'po-campaigns' },
	    el('h2', {}, t('po_campaigns')), table([
	    { label: t('po_campaign'), render: (c) => `#${c.campaign_id} ` +
	      (c.name || '') },
	    { label: t('po_budget'), num: true, render: (c) =>
	      '¥' + yuan(c.budget_fen) },
	    { label: t('po_reserved'), num: true, render: (c) =>
	      '¥' + yuan(c.reserved_fen) },
	    { label: t('po_remaining'), num: true, render: (c) =>
	      '¥' + yuan(c.remaining_fen) },
	    { label: t('po_paid'), num: true, render: (c) =>
	      money(c.states.paid) },
	    { label: t('po_pending'), num: true, render: (c) =>
	      money(sum(c.states.pending, c.states.accepted)) },
	    { label: t('po_held'), num: true, render: (c) =>
	      money(c.states.held) },
	    { label: t('po_failed'), num: true, render: (c) =>
	      money(sum(c.states.failed, c.states.rejected)) }],
	    list, t('po_no_campaigns')));
}

function stateText(s) {
	return t('po_s_' + s);
}

const cols = (extra) => [
	{ label: t('po_claim'), render: (p) => el('code', {}, String(p.claim_id)) },
	{ label: t('po_campaign'), render: (p) => '#' + p.campaign_id },
	{ label: t('po_customer'), render: (p) => window.sigilPeople ?
	  window.sigilPeople.customerLink(p.customer_id) : '#' + p.customer_id },
	{ label: t('po_amount'), num: true, render: (p) => yuan(p.fen) },
	{ label: t('po_state'), render: (p) => el('span',
	  { class: 'po-state po-state-' + p.state }, stateText(p.state)) },
	{ label: t('po_score'), num: true, render: (p) => String(p.score) },
	{ label: t('po_reasons'), render: (p) => p.reasons.join(', ') || '–' },
	{ label: t('po_created'), render: (p) => when(p.created) },
].concat(extra || []);

function queueCard(reload) {
	const box = el('div', { id: 'po-queue-list' });
	const decide = (p, how) => async () => {
		let body;
		if (how === 'reject') {
			const reason = el('input', { id: 'po-reason', maxlength: 63,
			    'aria-label': t('po_reason'), placeholder: t('po_reason') });
			if (!await confirmBox(t('po_reject'), el('div', {},
			    el('p', {}, t('po_reject_q')), reason)))
				return;
			body = reason.value.trim() ? { reason: reason.value.trim() } :
			    undefined;
		}
		try {
			await api('POST', `/api/v1/payouts/${p.claim_id}/${how}`, body);
			toast(t(how === 'approve' ? 'po_approved' : 'po_rejected'));
		} catch (e) {
			toast(err(e), true);
		}
		reload();
	};
	const actions = can.admin() ? [{ label: '', render: (p) => el('span', {},
	    el('button', { type: 'button', class: 'small primary',
	    id: 'po-approve-' + p.claim_id, on: { click: decide(p, 'approve') } },
	    t('po_approve')), ' ', el('button', { type: 'button', class: 'small',
	    id: 'po-reject-' + p.claim_id, on: { click: decide(p, 'reject') } },
	    t('po_reject'))) }] : [];
	const list = pagedList(box, 'po-queue', () => cols(actions), async (c) => {
		const d = await api('GET', '/api/v1/payouts?state=held&limit=100' +
		    (c ? '&before=' + c : ''));
		return { rows: d.payouts, next: d.next };
	}, { empty: t('po_queue_empty'), more: t('more') });
	list.reload();
	return el('div', { class: 'card', id: 'po-queue' },
	    el('h2', {}, t('po_queue')), can.admin() ? null :
	    el('p', { class: 'muted small' }, t('po_admin_only')), box);
}

function listCard(campaigns) {
	const box = el('div', { id: 'po-list-box' });
	const camp = el('select', { id: 'po-f-campaign', 'aria-label':
	    t('po_campaign') }, el('option', { value: '' }, t('po_all')),
	    campaigns.map((c) => el('option', { value: c.campaign_id },
	    `#${c.campaign_id} ${c.name || ''}`)));
	const state = el('select', { id: 'po-f-state', 'aria-label':
	    t('po_state') }, el('option', { value: '' }, t('po_all')),
	    STATES.map((s) => el('option', { value: s }, stateText(s))));
	const day = el('input', { type: 'date', id: 'po-f-date', 'aria-label':
	    t('po_date') });
	const query = () => {
		const q = new URLSearchParams({ limit: '100' });
		if (camp.value)
			q.set('campaign', camp.value);
		if (state.value)
			q.set('state', state.value);
		if (day.value)
			q.set('date', day.value);
		return q;
	};
	const list = pagedList(box, 'po-list', () => cols([
	    { label: t('po_wx'), render: (p) => p.wx_state || '–' },
	    { label: t('po_bill'), render: (p) => p.bill_no || '–' }]),
	    async (c) => {
		const q = query();
		if (c)
			q.set('before', c);
		const d = await api('GET', '/api/v1/payouts?' + q);
		return { rows: d.payouts, next: d.next };
	}, { more: t('more') });
	for (const f of [camp, state, day])
		f.addEventListener('change', () => list.reload());
	list.reload();
	return el('div', { class: 'card', id: 'po-list' }, el('h2', {},
	    t('po_list')), el('div', { class: 'toolbar' }, camp, state,
	    el('label', {}, t('po_date'), ' ', day)), box);
}

function statementCard(campaigns) {
	const day = el('input', { type: 'date', id: 'po-s-date', value:
	    chinaToday(), 'aria-label': t('po_date') });
	const camp = el('select', { id: 'po-s-campaign', 'aria-label':
	    t('po_campaign') }, el('option', { value: '' }, t('po_all')),
	    campaigns.map((c) => el('option', { value: c.campaign_id },
	    `#${c.campaign_id} ${c.name || ''}`)));
	const out = el('p', { id: 'po-recon-result', class: 'muted',
	    role: 'status' });
	const link = el('a', { class: 'button', id: 'po-csv', download: '' },
	    t('po_csv'));
	const href = () => {
		const q = new URLSearchParams({ date: day.value, lang:
		    A.lang() === 'zh' ? 'zh' : 'en' });
		if (camp.value)
			q.set('campaign', camp.value);
		link.href = '/api/v1/payouts/statement.csv?' + q;
	};
	day.addEventListener('change', href);
	camp.addEventListener('change', href);
	href();
	const recon = el('button', { type: 'button', id: 'po-reconcile' },
	    t('po_reconcile'));
	recon.addEventListener('click', async () => {
		recon.disabled = true;
		out.textContent = t('loading');
		try {
			const r = await api('POST', '/api/v1/payouts/reconcile?date=' +
			    encodeURIComponent(day.value));
			out.textContent = t('po_reconciled').replace('{c}', r.checked)
			    .replace('{m}', r.matched).replace('{x}', r.mismatched)
			    .replace('{e}', r.errors);
		} catch (e) {
			out.textContent = err(e);
		}
		recon.disabled = false;
	});
	return el('div', { class: 'card', id: 'po-statement' },
	    el('h2', {}, t('po_statement')), el('div', { class: 'toolbar' },
	    el('label', {}, t('po_date'), ' ', day), camp, link, recon), out,
	    el('p', { class: 'muted small' }, t('po_statement_note')));
}

const FIELDS = [['mchid', 'po_mchid', 32], ['appid', 'po_appid', 32],
    ['serial_no', 'po_serial', 64], ['pub_key_id', 'po_pubid', 64],
    ['scene_id', 'po_scene', 16], ['remark', 'po_remark', 32],
    ['activity', 'po_activity', 32], ['reward', 'po_reward', 32]];

function settingsCard(cur, reloadAll) {
	const s = cur.settings || {};
	const inputs = {};
	for (const [k, label, max] of FIELDS)
		inputs[k] = el('input', { id: 'po-set-' + k, maxlength: max,
		    autocomplete: 'off', value: s[k] || '', 'aria-label': t(label) });
	const pub = el('textarea', { id: 'po-set-public_key',
	    'aria-label': t('po_pubkey') });
	pub.rows = 4;
	pub.value = s.public_key || '';
	const msg = el('div', { class: 'notice error', id: 'po-set-msg',
	    hidden: true });
	const form = el('form', { class: 'stack', id: 'po-settings-form' },
	    FIELDS.map(([k, label]) => el('label', {}, t(label), inputs[k])),
	    el('label', { class: 'wide' }, t('po_pubkey'), pub), msg,
	    el('div', { class: 'actions' }, el('button', { type: 'submit',
	    class: 'primary', id: 'po-set-save' }, t('save'))));
	form.addEventListener('submit', async (ev) => {
		ev.preventDefault();
		msg.hidden = true;
		const body = { public_key: pub.value.trim() };
		for (const [k] of FIELDS)
			if (inputs[k].value.trim())
				body[k] = inputs[k].value.trim();
		try {
			await api('PUT', '/api/v1/payments/settings', body);
			toast(t('saved'));
			reloadAll();
		} catch (e) {
			msg.textContent = err(e);
			msg.hidden = false;
		}
	});
	const k = cur.keys || { private_key: {}, apiv3_key: {} };
	const pem = el('textarea', { id: 'po-key-pem', autocomplete: 'off',
	    spellcheck: 'false', 'aria-label': t('po_key_pem') });
	pem.rows = 4;
	const v3 = el('input', { id: 'po-key-v3', type: 'password', maxlength: 32,
	    autocomplete: 'new-password', 'aria-label': t('po_v3') });
	const kmsg = el('div', { class: 'notice error', id: 'po-key-msg',
	    hidden: true });
	const keys = el('form', { class: 'stack', id: 'po-keys-form' },
	    el('p', { class: 'wide', id: 'po-key-state' },
	    `${t('po_key_pem')}: `, k.private_key.set ? t('po_key_set') +
	    (k.private_key.fingerprint ? ` · ${t('po_fp')} ` : '') : t('po_key_none'),
	    k.private_key.fingerprint ? el('code', {}, k.private_key.fingerprint) :
	    null, el('br'), `${t('po_v3')}: `, k.apiv3_key.set ? t('po_key_set') :
	    t('po_key_none')),
	    el('label', { class: 'wide' }, t('po_key_pem'), pem),
	    el('label', {}, t('po_v3'), v3), kmsg,
	    el('div', { class: 'actions' }, el('button', { type: 'submit',
	    id: 'po-key-save' }, t('po_keys_save'))));
	keys.addEventListener('submit', async (ev) => {
		ev.preventDefault();
		kmsg.hidden = true;
		const body = {};
		if (pem.value.trim())
			body.private_key = pem.value.trim() + '\n';
		if (v3.value)
			body.apiv3_key = v3.value;
		try {
			await api('PUT', '/api/v1/payments/keys', body);
			pem.value = v3.value = '';
			toast(t('po_keys_saved'));
			reloadAll();
		} catch (e) {
			kmsg.textContent = err(e);
			kmsg.hidden = false;
		}
	});
	return el('div', { class: 'card', id: 'po-settings' },
	    el('h2', {}, t('po_settings')), el('p', { class: 'muted' },
	    `${t('po_notify')}: `, cur.notify_url ? el('code', { id: 'po-notify' },
	    cur.notify_url) : t('po_notify_none')), form,
	    el('h2', {}, t('po_keys')), el('p', { class: 'muted small' },
	    t('po_keys_note')), keys);
}

async function payoutsPage(box) {
	const head = el('div', { class: 'toolbar' }, el('h1', {}, t('po_title')));
	const body = el('div', { id: 'po' });
	append(box, [head, body]);
	const reload = async () => {
		loading(body);
		let cash, set = null;
		try {
			[cash, set] = await Promise.all([
			    api('GET', '/api/v1/payouts/cash'),
			    can.admin() ? api('GET', '/api/v1/payments/settings') :
			    null]);
		} catch (e) {
			failure(body, e, reload);
			return;
		}
		append(clear(body), [campaignsCard(cash.campaigns),
		    queueCard(reload), listCard(cash.campaigns),
		    can.operate() ? statementCard(cash.campaigns) : null,
		    set ? settingsCard(set, reload) : el('div', { class: 'card' },
		    el('p', { class: 'muted' }, t('po_settings_admin_only')))]);
	};
	await reload();
}

A.registerPage('payouts', 'campaigns', payoutsPage, { group: 'marketing',
    ownNote: true });

/* ---- the customer page's card ---- */

function cashBlock(c) {
	const card = el('div', { class: 'card', id: 'customer-cash',
	    hidden: true }, el('h2', {}, t('po_customer_card')));
	(async () => {
		let d;
		try {
			d = await api('GET', '/api/v1/payouts?limit=50&customer=' +
			    encodeURIComponent(c.id));
		} catch (e) {
			return;		/* the page says the customer's own errors */
		}
		if (!d.payouts.length)
			return;
		append(card, [table([
		    { label: t('po_created'), render: (p) => when(p.created) },
		    { label: t('po_campaign'), render: (p) => '#' + p.campaign_id },
		    { label: t('po_amount'), num: true, render: (p) => yuan(p.fen) },
		    { label: t('po_state'), render: (p) => stateText(p.state) },
		    { label: t('po_bill'), render: (p) => p.bill_no || '–' }],
		    d.payouts)]);
		card.hidden = false;
	})();
	return card;
}

if (window.sigilPeople)
	window.sigilPeople.customerBlocks.push(cashBlock);

})();
