/**
 * The reader-facing words of the archive page and its search, kept together so they can move into
 * the language catalogue as they are (keys and English text).
 */
export const searchText = {
  archiveTitle: "Archive",
  searchLabel: "Search the archive",
  searchButton: "Search",
  searchHint: 'Words, a Japanese term such as 日米, or a "phrase in quotes".',
  resultsTitle: (query: string) => `Search: ${query}`,
  resultCount: (n: number) => (n === 1 ? "1 story matches" : `${n} stories match`),
  showingFirst: (shown: number) => `Showing the best ${shown}.`,
  noMatches: "No stories match. Try fewer or other words.",
  issueIntro: "Issue overview",
  allIssues: "All issues",
  noIssues: "No issues yet.",
  pdf: "PDF",
  tooManySearches: "too many searches from your address; try again later",
} as const;
