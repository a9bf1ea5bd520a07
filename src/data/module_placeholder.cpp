// module data
