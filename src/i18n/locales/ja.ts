import type { Messages } from "./en.js";

/**
 * The Japanese catalogue, in です/ます form for government and corporate readers. Typed as
 * `Messages`, so a key missing here (or one English no longer has) does not compile. The
 * newsletter's name stands in 「」 in running text, as Japanese prose quotes a title.
 */
export const ja: Messages = {
  "language.name": "日本語",

  "page.subscribeTitle": "購読のお申し込み",
  "home.emailLabel": "メールアドレス",
  "home.nameLabel": "お名前",
  "home.optional": "（任意）",
  "home.honeypotLabel": "この欄には何も入力しないでください",
  "home.languageLabel": "言語",
  "home.subscribeButton": "購読を申し込む",
  "home.confirmFirst":
    "まず確認用のリンクをメールでお送りします。リンクをクリックしていただくまで、配信は始まりません。",
  "home.pastIssues": "バックナンバー",
  "home.noIssues": "まだ発行された号はありません。",
  "home.pdf": "PDF",
  "archive.title": "アーカイブ",
  "archive.allIssues": "すべての号",
  "search.label": "アーカイブを検索",
  "search.button": "検索",
  "search.hint": '単語、「日米」のような日本語の語句、または "引用符で囲んだフレーズ" で検索できます。',
  "search.resultsTitle": "検索：{query}",
  "search.resultCount.one": "1件の記事が見つかりました",
  "search.resultCount.other": "{count}件の記事が見つかりました",
  "search.showingFirst": "関連性の高い{count}件を表示しています。",
  "search.noMatches": "該当する記事はありません。語句を減らすか、別の語句でお試しください。",
  "search.issueIntro": "号の概要",

  "subscribe.checkInboxTitle": "受信トレイをご確認ください",
  "subscribe.accepted":
    "お申し込みありがとうございます。ご入力のアドレスでメールを受信できる場合は、確認用のリンクがまもなく届きます。",

  "confirm.title": "購読のご確認",
  "confirm.oneMoreStep":
    "あと一歩です。このアドレスで「{newsletter}」を受け取るには、下のボタンを押してください。",
  "confirm.button": "購読を確定する",
  "confirm.notYou": "お心当たりがない場合は、このページを閉じてください。メールが送られることはありません。",
  "confirmed.title": "購読が確定しました",
  "confirmed.welcome": "「{newsletter}」の購読を開始しました。ご登録ありがとうございます。",
  "confirmed.otherTitle": "購読について",
  "confirmed.stayedUnsubscribed":
    "このアドレスはリンクをお送りした後に配信停止となったため、配信停止のままとなっています。",
  "confirmed.cannot": "このアドレスは現在、確認できません。",

  "unsubscribe.title": "配信停止",
  "unsubscribe.question": "このアドレスへの「{newsletter}」の配信を停止しますか？",
  "unsubscribe.button": "配信を停止する",
  "unsubscribed.title": "配信を停止しました",
  "unsubscribed.text": "今後、「{newsletter}」からメールをお送りすることはありません。",

  "manage.title": "購読の設定",
  "manage.statusLine": "{email} の購読状況：{status}",
  "manage.status.pending": "確認待ち（お送りした確認用リンクのクリックをお待ちしています）",
  "manage.status.active": "購読中",
  "manage.status.unsubscribed": "配信停止中",
  "manage.status.bounced": "一時停止中（このアドレスへのメールが届きませんでした）",
  "manage.status.complained": "一時停止中（このアドレスから迷惑メールとして報告されました）",
  "manage.nameLabel": "お名前",
  "manage.saveName": "お名前を保存",
  "manage.languageLabel": "言語",
  "manage.saveLanguage": "言語を保存",
  "manage.subscribeAgain": "再度購読する",
  "manage.newLinkNote": "新しい確認用リンクをメールでお送りします。",
  "manage.unsubscribeButton": "配信を停止する",
  "manage.notice.nameSaved": "お名前を保存しました。",
  "manage.notice.languageSaved": "言語を変更しました。今後のページとメールは日本語でお届けします。",
  "manage.notice.unsubscribed": "配信を停止しました。",
  "manage.notice.resubscribed": "確認用のリンクをお送りしました。受信トレイをご確認ください。",
  "manage.tracking.heading": "閲覧状況の記録",
  "manage.tracking.explainBoth":
    "メールを開いたときやメール内のリンクを開いたときに、どの記事が読まれているかを知るため、日時、ネットワークアドレス、ブラウザー名を記録しています。記録は{days}日後に削除します。",
  "manage.tracking.explainClicks":
    "メール内のリンクを開いたときに、どの記事が読まれているかを知るため、日時、ネットワークアドレス、ブラウザー名を記録しています。記録は{days}日後に削除します。",
  "manage.tracking.explainOpens":
    "メールを開いたときに、どの記事が読まれているかを知るため、日時、ネットワークアドレス、ブラウザー名を記録しています。記録は{days}日後に削除します。",
  "manage.tracking.offNow":
    "記録を停止しています。メールのリンクはそのままの形でお届けし、記録用の画像も含めません。",
  "manage.tracking.turnOff": "記録を停止する",
  "manage.tracking.turnOn": "記録を再開する",
  "manage.notice.trackingOff":
    "記録を停止しました。次回のメールから、リンクはそのままの形になり、何も記録しません。",
  "manage.notice.trackingOn": "閲覧状況の記録を再開しました。",

  "error.title": "処理できませんでした",
  "error.serverTitle": "申し訳ありません",
  "error.badRequest":
    "このリクエストは処理できませんでした。入力内容をご確認のうえ、もう一度お試しください。",
  "error.badLink": "このリンクは無効です。リンクが途中で切れているか、有効期限が切れている可能性があります。",
  "error.notFound": "ページが見つかりません。リンクが正しくないか、有効期限が切れている可能性があります。",
  "error.tooLarge": "送信された内容が大きすぎます。",
  "error.tooMany":
    "お使いのネットワークからのリクエストが多すぎます。しばらくしてから、もう一度お試しください。",
  "error.unavailable": "現在この操作を行うことができません。数分後にもう一度お試しください。",
  "error.server": "システムで問題が発生しました。しばらくしてから、もう一度お試しください。",
  "error.detail": "詳細：{detail}",

  "mail.footer.viewInBrowser": "ブラウザで表示",
  "mail.footer.manage": "購読の設定",
  "mail.footer.unsubscribe": "配信停止",

  "mail.confirm.subject": "「{newsletter}」購読のご確認",
  "mail.confirm.kicker": "購読のご確認",
  "mail.confirm.body":
    "{via}、このアドレスへの「{newsletter}」の配信のお申し込みがありました。ご本人によるお申し込みでしたら、下のボタンから購読をご確認ください。",
  "mail.confirm.via.web": "ウェブサイトのフォームから",
  "mail.confirm.via.email": "メールで",
  "mail.confirm.via.staff": "編集部を通じて",
  "mail.confirm.button": "購読を確認する",
  "mail.confirm.note":
    "このリンクの有効期限は7日間です。お心当たりがない場合は、このメールを破棄してください。今後メールが送られることはありません。",

  "mail.welcome.subject": "「{newsletter}」へようこそ",
  "mail.welcome.kicker": "購読が確定しました",
  "mail.welcome.leadNamed": "{name} 様、ようこそ。「{newsletter}」の購読が確定しました。",
  "mail.welcome.lead": "ようこそ。「{newsletter}」の購読が確定しました。",
  "mail.welcome.archiveBefore": "これまでの号は",
  "mail.welcome.archiveLink": "アーカイブ",
  "mail.welcome.archiveAfter": "でご覧いただけます。",

  "mail.goodbye.subject": "「{newsletter}」の配信を停止しました",
  "mail.goodbye.kicker": "配信停止",
  "mail.goodbye.body":
    "今後、「{newsletter}」をお送りすることはありません。本件に関するご連絡は、このメールが最後となります。",
  "mail.goodbye.resubscribeBefore": "お気持ちが変わりましたら、",
  "mail.goodbye.resubscribeLink": "いつでも再度ご購読いただけます",
  "mail.goodbye.resubscribeAfter": "。",

  "mail.unsubscribeLink.subject": "「{newsletter}」配信停止用リンクのご案内",
  "mail.unsubscribeLink.kicker": "配信停止",
  "mail.unsubscribeLink.body":
    "このアドレスについて「{newsletter}」の配信停止を求めるメールを受け取りました。メールの差出人は誰でも偽ることができるため、現時点では何も変更していません。ご本人からのご依頼でしたら、下のボタンから配信を停止してください。",
  "mail.unsubscribeLink.button": "配信を停止する",
  "mail.unsubscribeLink.note":
    "お心当たりがない場合は、このメールを破棄してください。購読はそのまま継続されます。",
};
