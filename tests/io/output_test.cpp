// Output targets: atomic replacement of regular files only, devices and FIFOs written straight,
// symbolic links followed, this process's own descriptors reused, nothing left on failure.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <thread>

#include "amflow/io/output.hpp"
#include "support.hpp"

namespace amflow {
namespace AMFLOW_TEST_UNIT {

namespace fs = std::filesystem;

class output_test : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("amflow_output_test_" + std::to_string(::getpid()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  static std::string read(const fs::path& p) {
    std::ifstream in(p);
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
  }
  long entries() const {
    return std::distance(fs::directory_iterator(dir_), fs::directory_iterator());
  }
  fs::path dir_;
};

TEST_F(output_test, a_new_file_is_written_atomically_and_alone) {
  const fs::path target = dir_ / "out.csv";
  io::output_target out(target.string());
  out.write("x,y\n");
  EXPECT_FALSE(fs::exists(target)) << "the path must not change before commit";
  out.write("1,2\n");
  out.commit();
  EXPECT_EQ(read(target), "x,y\n1,2\n");
  EXPECT_EQ(entries(), 1);
}

TEST_F(output_test, an_unwritable_path_is_bad_input_before_any_work) {
  EXPECT_THROW(io::output_target((dir_ / "missing" / "out.csv").string()), input_error);
  EXPECT_THROW(io::output_target(dir_.string()), input_error);  // a directory
  EXPECT_THROW(io::output_target((dir_ / "").string()), input_error);
  EXPECT_EQ(entries(), 0);
}

TEST_F(output_test, a_failure_leaves_nothing_and_keeps_the_old_file) {
  const fs::path target = dir_ / "out.csv";
  { std::ofstream(target) << "old"; }
  ::chmod(target.c_str(), 0640);
  {
    io::output_target out(target.string());
    out.write("new, half written");
  }  // no commit: a failure
  EXPECT_EQ(read(target), "old");
  EXPECT_EQ(entries(), 1);
  io::write_output(target.string(), "new");
  EXPECT_EQ(read(target), "new");
  struct stat st {};
  ::stat(target.c_str(), &st);
  EXPECT_EQ(st.st_mode & 07777, 0640u) << "an existing file keeps its permissions";
}

TEST_F(output_test, devices_are_written_never_replaced) {
  io::write_output("/dev/null", "discarded\n");
  struct stat st {};
  ASSERT_EQ(::stat("/dev/null", &st), 0);
  EXPECT_TRUE(S_ISCHR(st.st_mode)) << "/dev/null must stay a character device";
  EXPECT_EQ(entries(), 0);
}

TEST_F(output_test, symbolic_links_are_followed) {
  const fs::path target = dir_ / "target.csv", link = dir_ / "link.csv";
  { std::ofstream(target) << "old"; }
  fs::create_symlink("target.csv", link);
  io::write_output(link.string(), "through the link");
  EXPECT_TRUE(fs::is_symlink(link)) << "the link must stay a link";
  EXPECT_EQ(read(target), "through the link");
  // A dangling link names the file to create.
  const fs::path dangling = dir_ / "dangling.csv";
  fs::create_symlink("created.csv", dangling);
  io::write_output(dangling.string(), "created");
  EXPECT_TRUE(fs::is_symlink(dangling));
  EXPECT_EQ(read(dir_ / "created.csv"), "created");
  EXPECT_EQ(entries(), 4);
}

TEST_F(output_test, a_fifo_receives_the_output_and_stays_a_fifo) {
  const fs::path fifo = dir_ / "pipe";
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
  std::string received;
  std::thread reader([&] { received = read(fifo); });
  io::write_output(fifo.string(), "streamed\n");
  reader.join();
  EXPECT_EQ(received, "streamed\n");
  struct stat st {};
  ::stat(fifo.c_str(), &st);
  EXPECT_TRUE(S_ISFIFO(st.st_mode));
  EXPECT_EQ(entries(), 1);
}

TEST_F(output_test, dev_stdout_is_this_process_standard_output) {
  // Standard output sent into a file opened for appending, as a shell does for >>: /dev/stdout
  // must append to it, not replace it.
  const fs::path file = dir_ / "appended.txt";
  { std::ofstream(file) << "first\n"; }
  const int saved = ::dup(STDOUT_FILENO);
  const int fd = ::open(file.c_str(), O_WRONLY | O_APPEND);
  ASSERT_GE(fd, 0);
  ::dup2(fd, STDOUT_FILENO);
  ::close(fd);
  io::write_output("/dev/stdout", "second\n");
  io::write_output("/dev/fd/1", "third\n");
  ::dup2(saved, STDOUT_FILENO);
  ::close(saved);
  EXPECT_EQ(read(file), "first\nsecond\nthird\n");
  EXPECT_EQ(entries(), 1);
}

}  // namespace AMFLOW_TEST_UNIT
}  // namespace amflow
