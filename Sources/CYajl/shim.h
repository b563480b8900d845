#include <yajl_parse.h>
#include <yajl_gen.h>
#include <yajl_version.h>
