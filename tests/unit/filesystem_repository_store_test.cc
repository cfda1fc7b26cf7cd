// The built-in repository storage on a real filesystem: settings, artifacts,
// symlinks that try to lead out of a repository, and files that must not
// cost a call more than its limits: FIFOs, sockets, huge files.
#include <fcntl.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <functional>
#include <future>
#include <iostream>
#include <limits>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "storage/repo/repository_store.h"
#include "storage/repo/safe_path.h"

namespace mcpreg::storage {
namespace {

using ::testing::HasSubstr;

constexpr uint64_t kAnySize = std::numeric_limits<uint64_t>::max();

class FilesystemRepositoryStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/mcpreg-repo-test-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    root_ = dir_ + "/storage";
    auto store = NewFilesystemRepositoryStore(root_);
    ASSERT_TRUE(store.ok()) << store.status();
    store_ = std::move(*store);
    ASSERT_TRUE(
        store_->CreateRepository({"ai-pypi-local", "pypi", "local", "ai"})
            .ok());
  }
  void TearDown() override {
    std::system(absl::StrCat("rm -rf '", dir_, "'").c_str());
  }
  void WriteFile(const std::string& path, const std::string& content) {
    std::ofstream(path) << content;
  }

  std::string dir_;
  std::string root_;
  std::unique_ptr<RepositoryStore> store_;
};

TEST_F(FilesystemRepositoryStoreTest, RepositorySettingsRoundTrip) {
  absl::StatusOr<RepositoryInfo> info = store_->GetRepository("ai-pypi-local");
  ASSERT_TRUE(info.ok()) << info.status();
  EXPECT_EQ(info->key, "ai-pypi-local");
  EXPECT_EQ(info->package_type, "pypi");
  EXPECT_EQ(info->repo_class, "local");
  EXPECT_EQ(info->project_key, "ai");

  ASSERT_TRUE(
      store_->CreateRepository({"docker-remote", "docker", "remote", ""}).ok());
  auto list = store_->ListRepositories();
  ASSERT_TRUE(list.ok());
  ASSERT_EQ(list->size(), 2u);
  EXPECT_EQ((*list)[0].key, "ai-pypi-local");
  EXPECT_EQ((*list)[1].key, "docker-remote");

  // A second store on the same root sees the same repositories.
  auto again = NewFilesystemRepositoryStore(root_);
  ASSERT_TRUE(again.ok());
  EXPECT_TRUE((*again)->GetRepository("docker-remote").ok());
}

// Settings are kept parsed while their file stays the same; any change to it
// — rewritten in place with the same size and even the same modification
// time, or replaced by another file — is read anew.
TEST_F(FilesystemRepositoryStoreTest, ChangedSettingsFilesAreReadAgain) {
  const std::string file = root_ + "/.settings/ai-pypi-local.json";
  const auto project = [&] {
    absl::StatusOr<RepositoryInfo> info =
        store_->GetRepository("ai-pypi-local");
    return info.ok() ? info->project_key : info.status().ToString();
  };
  // A file changed less than 3 s ago is never kept: wait that out, so
  // that the reads below come from the cache.
  const auto settle = [] { absl::SleepFor(absl::Milliseconds(3100)); };
  struct stat original;
  ASSERT_EQ(stat(file.c_str(), &original), 0);
  std::string text;
  {
    std::ifstream in(file);
    text.assign(std::istreambuf_iterator<char>(in), {});
  }
  ASSERT_THAT(text, HasSubstr("\"ai\""));
  const auto with_project = [&](const char* quoted) {
    std::string t = text;
    return t.replace(t.find("\"ai\""), 4, quoted);
  };
  settle();
  EXPECT_EQ(project(), "ai");
  EXPECT_EQ(project(), "ai");

  // Rewritten in place, same size, modification time set back (as cp -p
  // or rsync -t would): the change time moved.
  WriteFile(file, with_project("\"ml\""));
  const timespec times[2] = {original.st_atim, original.st_mtim};
  ASSERT_EQ(utimensat(AT_FDCWD, file.c_str(), times, 0), 0);
  EXPECT_EQ(project(), "ml");

  // Replaced by another file of the same size: a new inode.
  settle();
  EXPECT_EQ(project(), "ml");
  WriteFile(file + ".new", with_project("\"zz\""));
  ASSERT_EQ(rename((file + ".new").c_str(), file.c_str()), 0);
  EXPECT_EQ(project(), "zz");

  // A damaged file is reported, not answered from the cache.
  settle();
  EXPECT_EQ(project(), "zz");
  WriteFile(file, "{not json");
  EXPECT_THAT(project(), HasSubstr("not valid JSON"));
}

TEST_F(FilesystemRepositoryStoreTest, CreateRefusesDuplicatesAndBadSettings) {
  EXPECT_EQ(
      store_->CreateRepository({"ai-pypi-local", "npm", "local", ""}).code(),
      absl::StatusCode::kAlreadyExists);
  EXPECT_EQ(store_->GetRepository("ai-pypi-local")->package_type, "pypi");

  absl::Status s = store_->CreateRepository({"../x", "npm", "local", ""});
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(s.message()), HasSubstr("key"));
  s = store_->CreateRepository({".settings", "npm", "local", ""});
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  s = store_->CreateRepository({"r", "NPM!", "local", ""});
  EXPECT_THAT(std::string(s.message()), HasSubstr("packageType"));
  s = store_->CreateRepository({"r", "npm", "cloud", ""});
  EXPECT_THAT(std::string(s.message()), HasSubstr("repoClass"));
  EXPECT_EQ(store_->GetRepository("r").status().code(),
            absl::StatusCode::kNotFound);
}

TEST_F(FilesystemRepositoryStoreTest, ConcurrentCreatesHaveOneWinner) {
  std::vector<std::thread> threads;
  std::atomic<int> created{0}, exists{0};
  for (int i = 0; i < 8; ++i) {
    threads.emplace_back([&, i] {
      absl::Status s = store_->CreateRepository(
          {"raced", i % 2 ? "npm" : "pypi", "local", ""});
      if (s.ok()) ++created;
      if (s.code() == absl::StatusCode::kAlreadyExists) ++exists;
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(created.load(), 1);
  EXPECT_EQ(exists.load(), 7);
  EXPECT_TRUE(store_->GetRepository("raced").ok());
}

TEST_F(FilesystemRepositoryStoreTest, APublishedFileIsNeverReplaced) {
  ASSERT_TRUE(
      store_->PublishArtifact("ai-pypi-local", "p/1.0/p-1.0.tar.gz", "first")
          .ok());
  absl::Status again =
      store_->PublishArtifact("ai-pypi-local", "p/1.0/p-1.0.tar.gz", "second");
  EXPECT_EQ(again.code(), absl::StatusCode::kAlreadyExists) << again;
  auto bytes = store_->ReadArtifact("ai-pypi-local", "p/1.0/p-1.0.tar.gz",
                                    1 << 20, CallDeadline());
  ASSERT_TRUE(bytes.ok());
  EXPECT_EQ(*bytes, "first");
  EXPECT_EQ(
      store_->PublishArtifact("ai-pypi-local", "../escape.tar.gz", "x").code(),
      absl::StatusCode::kInvalidArgument);
  // No temporary file is left beside it.
  auto listing =
      store_->ListArtifacts("ai-pypi-local", "", 100, CallDeadline());
  ASSERT_TRUE(listing.ok());
  ASSERT_EQ(listing->files.size(), 1u);
  EXPECT_EQ(std::system(absl::StrCat("test -z \"$(ls -A '", root_,
                                     "/ai-pypi-local/p/1.0' | grep -v "
                                     "'^p-1.0.tar.gz$')\"")
                            .c_str()),
            0);
}

TEST_F(FilesystemRepositoryStoreTest, ConcurrentPublishesHaveOneWinner) {
  std::vector<std::thread> threads;
  std::atomic<int> published{0}, exists{0};
  std::vector<std::string> contents;
  for (int i = 0; i < 8; ++i) {
    contents.push_back(absl::StrCat("content ", i, std::string(65536, 'x')));
  }
  for (int i = 0; i < 8; ++i) {
    threads.emplace_back([&, i] {
      absl::Status s =
          store_->PublishArtifact("ai-pypi-local", "raced.whl", contents[i]);
      if (s.ok()) ++published;
      if (s.code() == absl::StatusCode::kAlreadyExists) ++exists;
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(published.load(), 1);
  EXPECT_EQ(exists.load(), 7);
  auto bytes = store_->ReadArtifact("ai-pypi-local", "raced.whl", 1 << 20,
                                    CallDeadline());
  ASSERT_TRUE(bytes.ok());
  EXPECT_NE(std::find(contents.begin(), contents.end(), *bytes),
            contents.end());
}

TEST_F(FilesystemRepositoryStoreTest, AnonymousReadIsASettingOffByDefault) {
  EXPECT_FALSE(store_->GetRepository("ai-pypi-local")->anonymous_read);
  ASSERT_TRUE(
      store_->CreateRepository({"open-npm", "npm", "local", "ai", true}).ok());
  auto again = NewFilesystemRepositoryStore(root_);
  ASSERT_TRUE(again.ok());
  EXPECT_TRUE((*again)->GetRepository("open-npm")->anonymous_read);
}

TEST_F(FilesystemRepositoryStoreTest,
       AFileNameOfTheFullComponentLengthIsWritten) {
  // 255 bytes is the longest name a path check allows and a directory entry
  // holds; the temporary name used while writing must fit as well.
  const std::string path = "org/" + std::string(kMaxPathComponentBytes, 'n');
  absl::Status written = store_->WriteArtifact("ai-pypi-local", path, "abc");
  ASSERT_TRUE(written.ok()) << written;
  EXPECT_EQ(*store_->ReadArtifact("ai-pypi-local", path, 3, {}), "abc");
}

TEST_F(FilesystemRepositoryStoreTest, WriteStatAndReadAnArtifact) {
  ASSERT_TRUE(
      store_->WriteArtifact("ai-pypi-local", "org/p/1.0/a.tgz", "abc").ok());
  auto stat =
      store_->StatArtifact("ai-pypi-local", "org/p/1.0/a.tgz", kAnySize, {});
  ASSERT_TRUE(stat.ok()) << stat.status();
  EXPECT_TRUE(stat->is_regular_file);
  EXPECT_EQ(stat->size, 3u);
  EXPECT_EQ(stat->sha256_hex,
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_EQ(*store_->ReadArtifact("ai-pypi-local", "org/p/1.0/a.tgz", 3, {}),
            "abc");
  EXPECT_EQ(store_->ReadArtifact("ai-pypi-local", "org/p/1.0/a.tgz", 2, {})
                .status()
                .code(),
            absl::StatusCode::kResourceExhausted);

  auto folder = store_->StatArtifact("ai-pypi-local", "org/p", kAnySize, {});
  ASSERT_TRUE(folder.ok());
  EXPECT_FALSE(folder->is_regular_file);

  // Overwrite is atomic and leaves no temporary files behind.
  ASSERT_TRUE(
      store_->WriteArtifact("ai-pypi-local", "org/p/1.0/a.tgz", "xy").ok());
  EXPECT_EQ(*store_->ReadArtifact("ai-pypi-local", "org/p/1.0/a.tgz", 10, {}),
            "xy");
  EXPECT_EQ(std::system(absl::StrCat("test -z \"$(ls -A '", root_,
                                     "/ai-pypi-local/org/p/1.0' | grep tmp)\"")
                            .c_str()),
            0);
}

TEST_F(FilesystemRepositoryStoreTest, MissingThingsAreNotFound) {
  EXPECT_EQ(store_->GetRepository("nope").status().code(),
            absl::StatusCode::kNotFound);
  EXPECT_EQ(store_->StatArtifact("nope", "a.tgz", kAnySize, {}).status().code(),
            absl::StatusCode::kNotFound);
  EXPECT_EQ(store_->StatArtifact("ai-pypi-local", "a/b.tgz", kAnySize, {})
                .status()
                .code(),
            absl::StatusCode::kNotFound);
  EXPECT_EQ(store_->WriteArtifact("nope", "a.tgz", "x").code(),
            absl::StatusCode::kNotFound);
}

TEST_F(FilesystemRepositoryStoreTest, TraversalIsRefusedBeforeTouchingDisk) {
  WriteFile(root_ + "/secret.txt", "top secret");
  for (const char* path : {"../secret.txt", "/etc/passwd", "a/../../secret.txt",
                           "..\\secret.txt", "%2e%2e/secret.txt"}) {
    EXPECT_EQ(store_->StatArtifact("ai-pypi-local", path, kAnySize, {})
                  .status()
                  .code(),
              absl::StatusCode::kInvalidArgument)
        << path;
    EXPECT_EQ(
        store_->ReadArtifact("ai-pypi-local", path, 100, {}).status().code(),
        absl::StatusCode::kInvalidArgument)
        << path;
    EXPECT_EQ(store_->WriteArtifact("ai-pypi-local", path, "x").code(),
              absl::StatusCode::kInvalidArgument)
        << path;
  }
}

TEST_F(FilesystemRepositoryStoreTest,
       SymlinksThatLeaveTheRepositoryAreRefused) {
  const std::string repo = root_ + "/ai-pypi-local";
  WriteFile(dir_ + "/outside.txt", "outside");
  ASSERT_TRUE(store_->CreateRepository({"other", "npm", "local", ""}).ok());
  ASSERT_TRUE(store_->WriteArtifact("other", "x.tgz", "other repo").ok());
  ASSERT_EQ(symlink((dir_ + "/outside.txt").c_str(),
                    (repo + "/absolute-link.tgz").c_str()),
            0);
  ASSERT_EQ(symlink("../../outside.txt", (repo + "/relative-link.tgz").c_str()),
            0);
  ASSERT_EQ(symlink("../other", (repo + "/sibling").c_str()), 0);
  ASSERT_EQ(symlink("/etc", (repo + "/etc").c_str()), 0);
  for (const char* path : {"absolute-link.tgz", "relative-link.tgz",
                           "sibling/x.tgz", "etc/passwd"}) {
    auto stat = store_->StatArtifact("ai-pypi-local", path, kAnySize, {});
    EXPECT_EQ(stat.status().code(), absl::StatusCode::kPermissionDenied)
        << path << ": " << stat.status();
    EXPECT_FALSE(store_->ReadArtifact("ai-pypi-local", path, 100, {}).ok())
        << path;
  }
  // Writing through a symlinked folder is refused too.
  EXPECT_FALSE(
      store_->WriteArtifact("ai-pypi-local", "sibling/y.tgz", "x").ok());
  EXPECT_FALSE(store_->StatArtifact("other", "y.tgz", kAnySize, {}).ok());
}

TEST_F(FilesystemRepositoryStoreTest, SymlinksInsideTheRepositoryResolve) {
  ASSERT_TRUE(store_->WriteArtifact("ai-pypi-local", "v1/a.tgz", "abc").ok());
  const std::string repo = root_ + "/ai-pypi-local";
  ASSERT_EQ(symlink("v1/a.tgz", (repo + "/latest.tgz").c_str()), 0);
  auto stat = store_->StatArtifact("ai-pypi-local", "latest.tgz", kAnySize, {});
  ASSERT_TRUE(stat.ok()) << stat.status();
  EXPECT_EQ(stat->size, 3u);
}

// Bytes this process has read so far (read(2) and friends), from
// /proc/self/io: whether a file was read at all, whatever its page cache.
int64_t BytesReadByThisProcess() {
  std::ifstream io("/proc/self/io");
  std::string key;
  int64_t value = 0;
  while (io >> key >> value) {
    if (key == "rchar:") return value;
  }
  return -1;
}

// Runs `call` on another thread; if it has not returned within 5 s (it
// blocked opening `fifo`), opens the FIFO for writing to set it free, and
// fails. Returns its result either way.
template <typename T>
T WithoutBlockingOn(const std::string& fifo, std::function<T()> call) {
  auto result = std::async(std::launch::async, std::move(call));
  if (result.wait_for(std::chrono::seconds(5)) != std::future_status::ready) {
    ADD_FAILURE() << "blocked on the FIFO " << fifo;
    const int fd = open(fifo.c_str(), O_WRONLY | O_NONBLOCK);
    if (fd >= 0) close(fd);
  }
  return result.get();
}

TEST_F(FilesystemRepositoryStoreTest, AFifoIsRefusedWithoutWaitingForAWriter) {
  const std::string fifo = root_ + "/ai-pypi-local/pipe.tgz";
  ASSERT_EQ(mkfifo(fifo.c_str(), 0644), 0);
  absl::StatusOr<ArtifactStat> stat =
      WithoutBlockingOn<absl::StatusOr<ArtifactStat>>(fifo, [&] {
        return store_->StatArtifact("ai-pypi-local", "pipe.tgz", kAnySize, {});
      });
  EXPECT_EQ(stat.status().code(), absl::StatusCode::kFailedPrecondition)
      << stat.status();
  EXPECT_THAT(std::string(stat.status().message()), HasSubstr("a FIFO"));
  absl::StatusOr<std::string> read =
      WithoutBlockingOn<absl::StatusOr<std::string>>(fifo, [&] {
        return store_->ReadArtifact("ai-pypi-local", "pipe.tgz", 100, {});
      });
  EXPECT_EQ(read.status().code(), absl::StatusCode::kFailedPrecondition)
      << read.status();

  // A FIFO in place of a repository's settings.
  const std::string settings = root_ + "/.settings/piped.json";
  ASSERT_EQ(mkfifo(settings.c_str(), 0644), 0);
  absl::StatusOr<RepositoryInfo> repo =
      WithoutBlockingOn<absl::StatusOr<RepositoryInfo>>(
          settings, [&] { return store_->GetRepository("piped"); });
  EXPECT_EQ(repo.status().code(), absl::StatusCode::kFailedPrecondition)
      << repo.status();
}

TEST_F(FilesystemRepositoryStoreTest, ASocketIsRefusedAsNotAFile) {
  const std::string path = root_ + "/ai-pypi-local/sock.tgz";
  const int sock = socket(AF_UNIX, SOCK_STREAM, 0);
  ASSERT_GE(sock, 0);
  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  ASSERT_LT(path.size(), sizeof(address.sun_path));
  memcpy(address.sun_path, path.c_str(), path.size() + 1);
  ASSERT_EQ(bind(sock, reinterpret_cast<sockaddr*>(&address), sizeof(address)),
            0);
  auto stat = store_->StatArtifact("ai-pypi-local", "sock.tgz", kAnySize, {});
  EXPECT_EQ(stat.status().code(), absl::StatusCode::kFailedPrecondition)
      << stat.status();
  close(sock);
}

TEST_F(FilesystemRepositoryStoreTest, SizeIsCheckedBeforeAnythingIsRead) {
  // 1 GiB, sparse: costs no disk, and a second of reading to hash.
  const std::string file = root_ + "/ai-pypi-local/huge.tgz";
  { std::ofstream create(file); }
  ASSERT_EQ(truncate(file.c_str(), int64_t{1} << 30), 0);
  const int64_t before = BytesReadByThisProcess();
  ASSERT_GE(before, 0);
  auto stat = store_->StatArtifact("ai-pypi-local", "huge.tgz", 64 << 20, {});
  EXPECT_EQ(stat.status().code(), absl::StatusCode::kResourceExhausted)
      << stat.status();
  EXPECT_THAT(std::string(stat.status().message()),
              HasSubstr("larger than 67108864 bytes"));
  auto read = store_->ReadArtifact("ai-pypi-local", "huge.tgz", 64 << 20, {});
  EXPECT_EQ(read.status().code(), absl::StatusCode::kResourceExhausted);
  EXPECT_LT(BytesReadByThisProcess() - before, 1 << 20);
}

TEST_F(FilesystemRepositoryStoreTest, HashingAndReadingStopAtTheDeadline) {
  const std::string file = root_ + "/ai-pypi-local/huge.tgz";
  { std::ofstream create(file); }
  ASSERT_EQ(truncate(file.c_str(), int64_t{4} << 30), 0);
  const int64_t before = BytesReadByThisProcess();
  const absl::Time start = absl::Now();
  auto stat =
      store_->StatArtifact("ai-pypi-local", "huge.tgz", kAnySize,
                           CallDeadline(absl::Now() + absl::Milliseconds(50)));
  EXPECT_EQ(stat.status().code(), absl::StatusCode::kDeadlineExceeded)
      << stat.status();
  EXPECT_THAT(std::string(stat.status().message()), HasSubstr("hashing"));
  const int64_t hashed = BytesReadByThisProcess() - before;
  EXPECT_LT(hashed, int64_t{4} << 30);
  std::cout << "hashing stopped by a 50 ms deadline after "
            << absl::Now() - start << ", " << hashed << " bytes\n";

  auto read = store_->ReadArtifact("ai-pypi-local", "huge.tgz", kAnySize,
                                   CallDeadline(absl::Now()));
  EXPECT_EQ(read.status().code(), absl::StatusCode::kDeadlineExceeded)
      << read.status();
  // The call's cancellation stops it too.
  auto cancelled = store_->StatArtifact(
      "ai-pypi-local", "huge.tgz", kAnySize,
      CallDeadline(absl::InfiniteFuture(), [] { return true; }));
  EXPECT_EQ(cancelled.status().code(), absl::StatusCode::kCancelled);
}

TEST(OpenBeneathTest, RefusesEscapesAtTheKernel) {
  char tmpl[] = "/tmp/mcpreg-beneath-XXXXXX";
  ASSERT_NE(mkdtemp(tmpl), nullptr);
  const std::string dir = tmpl;
  ASSERT_EQ(mkdir((dir + "/inner").c_str(), 0755), 0);
  ASSERT_EQ(symlink("..", (dir + "/inner/up").c_str()), 0);
  const int fd = open((dir + "/inner").c_str(), O_RDONLY | O_DIRECTORY);
  ASSERT_GE(fd, 0);
  EXPECT_EQ(OpenBeneath(fd, "up/inner", O_RDONLY).status().code(),
            absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(OpenBeneath(fd, "missing", O_RDONLY).status().code(),
            absl::StatusCode::kNotFound);
  close(fd);
  std::system(absl::StrCat("rm -rf '", dir, "'").c_str());
}

// The fallback for kernels or seccomp profiles without openat2.
TEST(OpenBeneathByWalkingTest, OpensInsideAndRefusesEverySymlink) {
  char tmpl[] = "/tmp/mcpreg-walk-XXXXXX";
  ASSERT_NE(mkdtemp(tmpl), nullptr);
  const std::string dir = tmpl;
  ASSERT_EQ(mkdir((dir + "/repo").c_str(), 0755), 0);
  ASSERT_EQ(mkdir((dir + "/repo/org").c_str(), 0755), 0);
  std::ofstream(dir + "/repo/org/a.tgz") << "inside";
  std::ofstream(dir + "/outside.txt") << "outside";
  ASSERT_EQ(symlink("../outside.txt", (dir + "/repo/up.tgz").c_str()), 0);
  ASSERT_EQ(symlink("/etc", (dir + "/repo/etc").c_str()), 0);
  ASSERT_EQ(symlink("org", (dir + "/repo/alias").c_str()), 0);
  const int root = open((dir + "/repo").c_str(), O_RDONLY | O_DIRECTORY);
  ASSERT_GE(root, 0);

  absl::StatusOr<int> fd = OpenBeneathByWalking(root, "org/a.tgz", O_RDONLY);
  ASSERT_TRUE(fd.ok()) << fd.status();
  char buf[16] = {};
  EXPECT_EQ(read(*fd, buf, sizeof(buf)), 6);
  EXPECT_STREQ(buf, "inside");
  close(*fd);

  for (const char* path : {"up.tgz", "etc/passwd", "alias/a.tgz"}) {
    absl::StatusOr<int> refused = OpenBeneathByWalking(root, path, O_RDONLY);
    EXPECT_FALSE(refused.ok()) << path;
    if (refused.ok()) close(*refused);
  }
  EXPECT_EQ(
      OpenBeneathByWalking(root, "../outside.txt", O_RDONLY).status().code(),
      absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(OpenBeneathByWalking(root, "org/missing", O_RDONLY).status().code(),
            absl::StatusCode::kNotFound);
  absl::StatusOr<int> created =
      OpenBeneathByWalking(root, "org/new.tgz", O_WRONLY | O_CREAT, 0644);
  ASSERT_TRUE(created.ok()) << created.status();
  close(*created);
  close(root);
  std::system(absl::StrCat("rm -rf '", dir, "'").c_str());
}

}  // namespace
}  // namespace mcpreg::storage
