/**
 * Per-reader parts of a rendition. The issue is rendered once with these tokens in place; the
 * sender substitutes each reader's values without rendering again. They use only characters that
 * survive HTML escaping and quoted-printable encoding unchanged.
 */
export const placeholders = {
  email: "{{digest_email}}",
  unsubscribeUrl: "{{digest_unsubscribe_url}}",
  manageUrl: "{{digest_manage_url}}",
  viewUrl: "{{digest_view_url}}",
} as const;

export type PlaceholderName = keyof typeof placeholders;
