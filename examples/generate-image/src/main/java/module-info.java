/** The example application, a module that reads sdj's exported API only. */
module example {
    requires io.sdj;
}
