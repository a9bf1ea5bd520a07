#include "cli/sql_shell_splitter.h"

#include <string>
#include <string_view>
#include <vector>

#include <gtest/gtest.h>

namespace reco::cli {
namespace {

// Feeds text line by line, collecting every statement, then what is left at end of input.
std::vector<SqlChunk> split_all(std::string_view text, bool postgres = false) {
  StatementSplitter splitter = postgres ? StatementSplitter::postgres() : StatementSplitter();
  std::vector<SqlChunk> chunks;
  std::size_t pos = 0;
  while (pos < text.size()) {
    std::size_t nl = text.find('\n', pos);
    if (nl == std::string_view::npos) nl = text.size();
    splitter.add_line(text.substr(pos, nl - pos));
    pos = nl + 1;
    while (auto chunk = splitter.next()) chunks.push_back(*chunk);
  }
  if (auto rest = splitter.take_rest()) chunks.push_back(*rest);
  return chunks;
}

TEST(StatementSplitter, PostgresDollarQuotesStayWhole) {
  const auto chunks = split_all(
      "create function f() returns int as $$\nbegin; return 1; end\n$$ language sql;\n"
      "select $t$;$$;$t$, $1;\nselect arr[1] from x;",
      true);
  ASSERT_EQ(chunks.size(), 3u);
  EXPECT_EQ(chunks[0].text,
            "create function f() returns int as $$\nbegin; return 1; end\n$$ language sql;");
  EXPECT_EQ(chunks[1].text, "select $t$;$$;$t$, $1;");
  EXPECT_EQ(chunks[1].first_line, 4u);
  EXPECT_EQ(chunks[2].text, "select arr[1] from x;");
  // SQLite's rules: no dollar quoting.
  EXPECT_EQ(split_all("select $$;$$;", false).size(), 2u);
}

TEST(StatementSplitter, OneStatementPerLine) {
  const auto chunks = split_all("select 1;\nselect 2;\n");
  ASSERT_EQ(chunks.size(), 2u);
  EXPECT_EQ(chunks[0].text, "select 1;");
  EXPECT_EQ(chunks[0].first_line, 1u);
  EXPECT_TRUE(chunks[0].has_sql);
  EXPECT_EQ(chunks[1].text, "select 2;");
  EXPECT_EQ(chunks[1].first_line, 2u);
}

TEST(StatementSplitter, SeveralStatementsOnOneLine) {
  const auto chunks = split_all("select 1; select 2;select 3;");
  ASSERT_EQ(chunks.size(), 3u);
  EXPECT_EQ(chunks[0].text, "select 1;");
  EXPECT_EQ(chunks[1].text, " select 2;");
  EXPECT_EQ(chunks[2].text, "select 3;");
  for (const auto& c : chunks) EXPECT_EQ(c.first_line, 1u);
}

TEST(StatementSplitter, MultiLineStatementStartsAtItsFirstToken) {
  const auto chunks = split_all("\n\n  select\n    a,\n    b\n  from t;\nselect 2;");
  ASSERT_EQ(chunks.size(), 2u);
  EXPECT_EQ(chunks[0].first_line, 3u);
  EXPECT_EQ(chunks[1].first_line, 7u);
}

TEST(StatementSplitter, SemicolonsInsideLiteralsAndCommentsDoNotSplit) {
  const auto chunks = split_all(
      "select 'a;b', \"c;d\", `e;f`, [g;h] -- x;y\n"
      "  /* p;\n q; */ from t;\n"
      "select 'it''s; fine';");
  ASSERT_EQ(chunks.size(), 2u);
  EXPECT_EQ(chunks[0].first_line, 1u);
  EXPECT_EQ(chunks[0].text.substr(chunks[0].text.size() - 7), "from t;");
  EXPECT_EQ(chunks[1].text, "select 'it''s; fine';");
  EXPECT_EQ(chunks[1].first_line, 4u);
}

TEST(StatementSplitter, TriggerBodyStaysWhole) {
  const auto chunks = split_all(
      "create trigger tr after insert on t begin\n"
      "  insert into log values (new.a);\n"
      "  update c set n = n + 1;\n"
      "end;\n"
      "select 1;");
  ASSERT_EQ(chunks.size(), 2u);
  EXPECT_EQ(chunks[0].text.find("create trigger"), 0u);
  EXPECT_EQ(chunks[0].text.substr(chunks[0].text.size() - 4), "end;");
  EXPECT_EQ(chunks[1].first_line, 5u);
}

TEST(StatementSplitter, LeadingCommentsBelongToTheNextStatement) {
  const auto chunks = split_all("-- first test\n/* block */\nselect 1;\n");
  ASSERT_EQ(chunks.size(), 1u);
  EXPECT_EQ(chunks[0].text, "-- first test\n/* block */\nselect 1;");
  EXPECT_EQ(chunks[0].first_line, 3u);  // the line of "select", not of the comment
}

TEST(StatementSplitter, TrailingCommentOnTheSameLineStaysWithItsStatement) {
  const auto chunks = split_all("select 1;  -- one\nselect 2; select 3; -- three\n");
  ASSERT_EQ(chunks.size(), 3u);
  EXPECT_EQ(chunks[0].text, "select 1;  -- one");
  EXPECT_EQ(chunks[1].text, "select 2;");
  EXPECT_EQ(chunks[2].text, " select 3; -- three");
  EXPECT_EQ(chunks[2].first_line, 2u);
}

TEST(StatementSplitter, UnterminatedLastStatementIsTheRest) {
  StatementSplitter splitter;
  splitter.add_line("select 1;");
  ASSERT_TRUE(splitter.next().has_value());
  splitter.add_line("select");
  EXPECT_FALSE(splitter.next().has_value());
  EXPECT_TRUE(splitter.in_statement());
  splitter.add_line("  2");
  EXPECT_FALSE(splitter.next().has_value());
  auto rest = splitter.take_rest();
  ASSERT_TRUE(rest.has_value());
  EXPECT_EQ(rest->text, "select\n  2\n");
  EXPECT_EQ(rest->first_line, 2u);
  EXPECT_TRUE(rest->has_sql);
  EXPECT_FALSE(splitter.take_rest().has_value());
}

TEST(StatementSplitter, CommentsOnlyAreNotAStatement) {
  StatementSplitter splitter;
  splitter.add_line("-- just a note");
  EXPECT_FALSE(splitter.next().has_value());
  EXPECT_FALSE(splitter.in_statement());  // a dot-command may follow
  auto rest = splitter.take_rest();
  ASSERT_TRUE(rest.has_value());
  EXPECT_FALSE(rest->has_sql);
  EXPECT_EQ(rest->first_line, 1u);
}

TEST(StatementSplitter, OpenBlockCommentOrLiteralIsInStatement) {
  StatementSplitter splitter;
  splitter.add_line("/* starts here");
  EXPECT_FALSE(splitter.next().has_value());
  EXPECT_TRUE(splitter.in_statement());
  splitter.add_line("ends here */");
  EXPECT_FALSE(splitter.next().has_value());
  EXPECT_FALSE(splitter.in_statement());

  splitter.add_line("select 'multi");
  EXPECT_FALSE(splitter.next().has_value());
  EXPECT_TRUE(splitter.in_statement());
  splitter.add_line("line; text';");
  auto chunk = splitter.next();
  ASSERT_TRUE(chunk.has_value());
  EXPECT_EQ(chunk->first_line, 3u);
  EXPECT_NE(chunk->text.find("'multi\nline; text'"), std::string::npos);
}

TEST(StatementSplitter, EmptyStatementsHaveNoSql) {
  const auto chunks = split_all(";\n  ;\nselect 1;");
  ASSERT_EQ(chunks.size(), 3u);
  EXPECT_FALSE(chunks[0].has_sql);
  EXPECT_FALSE(chunks[1].has_sql);
  EXPECT_TRUE(chunks[2].has_sql);
  EXPECT_EQ(chunks[2].first_line, 3u);
}

TEST(StatementSplitter, SkippedLinesKeepNumbering) {
  StatementSplitter splitter;
  splitter.add_line("select 1;");
  ASSERT_TRUE(splitter.next().has_value());
  EXPECT_EQ(splitter.next_line(), 2u);
  splitter.skip_line();  // a dot-command on line 2
  splitter.add_line("select");
  splitter.add_line("2;");
  auto chunk = splitter.next();
  ASSERT_TRUE(chunk.has_value());
  EXPECT_EQ(chunk->first_line, 3u);
}

TEST(StatementSplitter, DiscardDropsUnfinishedInput) {
  StatementSplitter splitter;
  splitter.add_line("select 'oops");
  EXPECT_FALSE(splitter.next().has_value());
  EXPECT_TRUE(splitter.in_statement());
  splitter.discard();
  EXPECT_FALSE(splitter.in_statement());
  splitter.add_line("select 2;");
  auto chunk = splitter.next();
  ASSERT_TRUE(chunk.has_value());
  EXPECT_EQ(chunk->text, "select 2;");
  EXPECT_EQ(chunk->first_line, 2u);
}

TEST(StatementSplitter, LineWithEmbeddedNewlines) {
  StatementSplitter splitter;
  splitter.add_line("select\n1;");  // a recalled multi-line history entry
  auto chunk = splitter.next();
  ASSERT_TRUE(chunk.has_value());
  EXPECT_EQ(chunk->text, "select\n1;");
  EXPECT_EQ(splitter.next_line(), 3u);
}

}  // namespace
}  // namespace reco::cli
